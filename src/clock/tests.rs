use super::*;
use std::time::UNIX_EPOCH;

#[test]
fn manual_clock_clones_share_one_time() {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let clock = ManualClock::new(t0);
    let other = clock.clone();
    assert_eq!(other.now(), t0);
    clock.advance(Duration::from_secs(5));
    assert_eq!(other.now(), t0 + Duration::from_secs(5));
    other.set(t0 - Duration::from_secs(3));
    assert_eq!(clock.now(), t0 - Duration::from_secs(3));
}

#[test]
fn manual_clock_ignores_an_unrepresentable_advance() {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let clock = ManualClock::new(t0);
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), t0);
}

#[test]
fn system_clock_reads_the_wall_clock() {
    let before = SystemTime::now();
    let read = SystemClock.now();
    let after = SystemTime::now();
    assert!(before <= read && read <= after);
}
