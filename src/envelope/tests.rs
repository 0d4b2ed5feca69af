//! Unit tests of the envelope layout and the clock rules.

use super::*;

const RULES: ClockRules = ClockRules {
    leeway: 60,
    not_before: None,
    idle_timeout: None,
    max_lifetime: MAX_TIME,
};

fn rules(idle_timeout: Option<u64>, max_lifetime: u64, not_before: Option<u64>) -> ClockRules {
    ClockRules {
        leeway: 60,
        not_before,
        idle_timeout,
        max_lifetime,
    }
}

#[test]
fn varints_round_trip_at_every_group_boundary() {
    let mut values = vec![0, 1, 127, 128, 16_383, 16_384, u64::MAX, MAX_TIME];
    values.extend((1..64).map(|s| 1u64 << s));
    values.extend((1..64).map(|s| (1u64 << s) - 1));
    for v in values {
        let mut buf = Vec::new();
        push_varint(&mut buf, v);
        assert_eq!(buf.len(), varint_len(v), "v = {v}");
        buf.extend_from_slice(&[0xAA; 2]);
        let (back, rest) = read_varint(&buf).expect("reads back");
        assert_eq!(back, v);
        assert_eq!(rest, &[0xAA; 2]);
    }
}

#[test]
fn varints_match_postcard() {
    for v in [0u64, 1, 300, 1_700_000_000, MAX_TIME, u64::MAX] {
        let mut ours = Vec::new();
        push_varint(&mut ours, v);
        let theirs = postcard::to_allocvec(&v).expect("serializes");
        assert_eq!(ours, theirs);
    }
}

#[test]
fn non_minimal_long_and_cut_varints_are_rejected() {
    assert_eq!(read_varint(&[0x80, 0x00]), None, "overlong zero");
    assert_eq!(read_varint(&[0x81, 0x00]), None, "redundant final group");
    assert_eq!(read_varint(&[0x80]), None, "cut off");
    assert_eq!(read_varint(&[]), None, "empty");
    let mut eleven = [0xff; 11];
    eleven[10] = 0x01;
    assert_eq!(read_varint(&eleven), None, "longer than 10 bytes");
    let mut overflow = [0xff; 10];
    overflow[9] = 0x02;
    assert_eq!(read_varint(&overflow), None, "65th bit");
    overflow[9] = 0x01;
    assert_eq!(read_varint(&overflow).map(|(v, _)| v), Some(u64::MAX));
}

fn env(created: u64, abs: u64, renewed: u64) -> Envelope {
    Envelope::from_parts([7; ID_LEN], created, abs, renewed)
}

/// The plaintext bytes of an envelope given as raw fields, for the rules
/// `Envelope::push` cannot break.
fn raw(created: u64, lifetime: u64, renewed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    push_varint(&mut out, created);
    push_varint(&mut out, lifetime);
    push_varint(&mut out, renewed);
    out.extend_from_slice(&[0; SCHEMA_ID_LEN + ID_LEN]);
    out
}

#[test]
fn the_layout_is_created_lifetime_renewed_schema_id() {
    let e = env(1_700_000_000, 1_700_043_200, 1_700_000_600);
    let schema = SchemaId::of("cart-v2");
    let mut buf = Vec::new();
    e.push(schema, &mut buf);
    assert_eq!(buf.len(), e.encoded_len());
    buf.extend_from_slice(b"xyz");
    let mut expected = Vec::new();
    expected.extend(postcard::to_allocvec(&1_700_000_000u64).expect("varint"));
    expected.extend(postcard::to_allocvec(&43_200u64).expect("varint"));
    expected.extend(postcard::to_allocvec(&600u64).expect("varint"));
    expected.extend(schema.0);
    expected.extend([7; ID_LEN]);
    expected.extend(b"xyz");
    assert_eq!(buf, expected);
    assert_eq!(e.encoded_len(), 5 + 3 + 2 + 4 + 16);

    let (back, back_schema, payload) = Envelope::read(&buf, &RULES).expect("reads");
    assert_eq!((back, back_schema, payload), (e, schema, &b"xyz"[..]));
}

#[test]
fn the_schema_id_is_the_start_of_a_sha256() {
    let digest = Sha256::digest(b"sealed-session v1 schema\x00cart-v2");
    assert_eq!(SchemaId::of("cart-v2").0, digest[..4]);
    assert_ne!(SchemaId::of(""), SchemaId::of("cart-v2"));
}

#[test]
fn broken_envelopes_are_malformed() {
    let cases = [
        ("renewed after the deadline", raw(100, 50, 51)),
        ("deadline past MAX_TIME", raw(MAX_TIME, 1, 0)),
        ("deadline overflows", raw(10, u64::MAX, 0)),
        ("created past MAX_TIME", raw(MAX_TIME + 1, 0, 0)),
    ];
    for (what, bytes) in cases {
        assert_eq!(
            Envelope::read(&bytes, &RULES).map(|_| ()),
            Err(Malformed::Envelope),
            "{what}"
        );
    }
    // Well-formed at the limits: renewed = lifetime, deadline = MAX_TIME.
    assert!(Envelope::read(&raw(100, 50, 50), &RULES).is_ok());
    assert!(Envelope::read(&raw(MAX_TIME - 5, 5, 0), &RULES).is_ok());
    // Too short for the schema and session ids.
    let full = raw(100, 50, 0);
    assert_eq!(
        Envelope::read(&full[..full.len() - 1], &RULES).map(|_| ()),
        Err(Malformed::Envelope)
    );
}

#[test]
fn clock_rules_apply_in_order_with_exclusive_deadlines() {
    let rules = rules(Some(500), MAX_TIME, Some(1000));
    let e = env(1000, 2000, 1000).governed(&rules);
    assert_eq!(e.check(1499, &rules), Ok(()));
    assert_eq!(
        e.check(1500, &rules),
        Err(Error::Expired {
            deadline: Deadline::Idle
        })
    );
    assert_eq!(
        e.check(2000, &rules),
        Err(Error::Expired {
            deadline: Deadline::Absolute
        })
    );
    assert_eq!(e.check(940, &rules), Ok(()), "60 s early is within leeway");
    assert_eq!(e.check(939, &rules), Err(Error::NotYetValid));
    let old = env(999, 2000, 1100).governed(&rules);
    assert_eq!(old.check(1200, &rules), Err(Error::Revoked));
}

#[test]
fn the_configured_idle_timeout_governs_every_cookie() {
    // Sealed at 1000 without any idle timeout: the envelope carries none.
    let sealed = env(1000, 100_000, 1000);
    // Opened where an idle timeout of 600 s is configured now, it expires
    // 600 s after its last seal, as a cookie sealed with it would.
    let strict = rules(Some(600), MAX_TIME, None);
    let e = sealed.governed(&strict);
    assert_eq!(e.check(1599, &strict), Ok(()));
    assert_eq!(
        e.check(1600, &strict),
        Err(Error::Expired {
            deadline: Deadline::Idle
        })
    );
    assert_eq!(e.idle_deadline(), Some(to_system_time(1600)));
    // Shortened to 60 s: the shorter window applies at once.
    let shorter = rules(Some(60), MAX_TIME, None);
    assert!(sealed.governed(&shorter).check(1060, &shorter).is_err());
    // Turned off: no idle expiry at all, however long since the last seal.
    let off = rules(None, MAX_TIME, None);
    assert_eq!(sealed.governed(&off).check(99_999, &off), Ok(()));
    assert_eq!(sealed.governed(&off).idle_deadline(), None);
}

#[test]
fn the_configured_max_lifetime_caps_the_sealed_one() {
    // Sealed with a 30-day lifetime, opened under a 7-day maximum.
    let day = 86_400;
    let sealed = env(1000, 1000 + 30 * day, 1000 + 7 * day - 10);
    let capped = rules(None, 7 * day, None);
    let e = sealed.governed(&capped);
    assert_eq!(e.absolute_deadline(), to_system_time(1000 + 7 * day));
    assert_eq!(e.check(1000 + 7 * day - 1, &capped), Ok(()));
    assert_eq!(
        e.check(1000 + 7 * day, &capped),
        Err(Error::Expired {
            deadline: Deadline::Absolute
        })
    );
    // A maximum longer than the sealed lifetime changes nothing.
    let loose = rules(None, 90 * day, None);
    assert_eq!(
        sealed.governed(&loose).absolute_deadline(),
        to_system_time(1000 + 30 * day)
    );
    // The idle deadline never passes the capped deadline.
    let both = rules(Some(3600), 7 * day, None);
    assert_eq!(
        sealed.governed(&both).expires_at(),
        to_system_time(1000 + 7 * day)
    );
}

#[test]
fn a_new_session_is_never_created_before_the_cut_off() {
    let rules = rules(None, 1000, Some(5000));
    let e = Envelope::fresh(SessionId([1; ID_LEN]), 4990, 100, &rules);
    assert_eq!(e.created_at(), to_system_time(5000));
    assert_eq!(e.absolute_deadline(), to_system_time(5100));
    assert_eq!(e.check(4990, &rules), Ok(()), "within the leeway");
    let later = Envelope::fresh(SessionId([1; ID_LEN]), 6000, 100, &rules);
    assert_eq!(later.created_at(), to_system_time(6000));
}

#[test]
fn cut_off_rounds_up_and_creation_rounds_down() {
    let t = UNIX_EPOCH + Duration::from_secs(1_000);
    assert_eq!((unix_secs(t), unix_secs_ceil(t)), (1_000, 1_000));
    let later = t + Duration::from_millis(500);
    assert_eq!((unix_secs(later), unix_secs_ceil(later)), (1_000, 1_001));
    let before_epoch = UNIX_EPOCH - Duration::from_secs(5);
    assert_eq!(
        (unix_secs(before_epoch), unix_secs_ceil(before_epoch)),
        (0, 0)
    );
    let far = UNIX_EPOCH + Duration::from_secs(MAX_TIME + 10);
    assert_eq!((unix_secs(far), unix_secs_ceil(far)), (MAX_TIME, MAX_TIME));
}

#[test]
fn touching_never_passes_the_absolute_deadline() {
    let rules = rules(Some(30), MAX_TIME, None);
    let e = Envelope::fresh(SessionId([1; ID_LEN]), 100, 50, &rules);
    assert_eq!(
        (e.created_at, e.absolute_deadline, e.renewed_at),
        (100, 150, 100)
    );
    assert_eq!(e.idle_deadline(), Some(to_system_time(130)));
    let touched = e.touched(140, &rules);
    assert_eq!(touched.renewed_at, 140);
    assert_eq!(touched.idle_deadline(), Some(to_system_time(150)));
    // A seal before the creation time (a slower clock) counts from creation.
    assert_eq!(e.touched(90, &rules).renewed_at, 100);
    assert_eq!(
        e.with_lifetime(Duration::from_secs(20)).expires_at(),
        to_system_time(120)
    );
    let far = Envelope::fresh(SessionId([1; ID_LEN]), u64::MAX, u64::MAX, &rules);
    assert_eq!(far.absolute_deadline, MAX_TIME);
}

/// Found by the fuzz target `open_authentic`: capping the deadline must not
/// move the time of the last seal, or a token sealed in the future opens
/// when the cap lands within the leeway.
#[test]
fn a_seal_in_the_future_is_not_yet_valid_under_a_capped_deadline() {
    let now = 1_000_000;
    // Created now, lifetime 30 days, last sealed 16 years ahead.
    let sealed = env(now, now + 30 * 86_400, now + 505_290_270);
    let capped = rules(None, 1, None);
    let e = sealed.governed(&capped);
    assert_eq!(e.renewed_at(), to_system_time(now + 505_290_270));
    assert_eq!(e.absolute_deadline(), to_system_time(now + 1));
    assert_eq!(e.check(now, &capped), Err(Error::NotYetValid));
    // Without the cap it is not yet valid all the same.
    assert_eq!(
        sealed.governed(&RULES).check(now, &RULES),
        Err(Error::NotYetValid)
    );
}
