use super::*;

fn breaker(failures: u32, probes: u32, successes: u32) -> Arc<Breaker> {
    Arc::new(Breaker::new(BreakerConfig {
        failure_threshold: failures,
        cooldown: Duration::from_millis(100),
        half_open_probes: probes,
        success_threshold: successes,
    }))
}

fn fail(b: &Arc<Breaker>, now: Instant) {
    let p = b.acquire_at(now).expect("permit");
    b.finish(p.generation, p.probe, Outcome::Failure, now);
    std::mem::forget(p);
}

#[test]
fn opens_after_consecutive_failures_only() {
    let b = breaker(3, 1, 1);
    let t = Instant::now();
    fail(&b, t);
    fail(&b, t);
    // A success resets the count; a 429 (neutral) does not.
    b.acquire_at(t).unwrap().record(Outcome::Success);
    fail(&b, t);
    fail(&b, t);
    b.acquire_at(t).unwrap().record(Outcome::Neutral);
    assert_eq!(b.state_at(t), CircuitState::Closed);
    fail(&b, t);
    assert_eq!(b.state_at(t), CircuitState::Open);
    let wait = b.acquire_at(t + Duration::from_millis(30)).unwrap_err();
    assert_eq!(wait, Duration::from_millis(70));
}

#[test]
fn half_open_bounds_probes_and_closes_after_successes() {
    let b = breaker(1, 2, 2);
    let t = Instant::now();
    fail(&b, t);
    let later = t + Duration::from_millis(150);
    assert_eq!(b.state_at(later), CircuitState::HalfOpen);
    let p1 = b.acquire_at(later).unwrap();
    let p2 = b.acquire_at(later).unwrap();
    assert!(b.acquire_at(later).is_err(), "a third probe must wait");
    p1.record(Outcome::Success);
    assert_eq!(b.state_at(later), CircuitState::HalfOpen);
    p2.record(Outcome::Success);
    assert_eq!(b.state_at(later), CircuitState::Closed);
}

#[test]
fn failed_probe_reopens_and_stale_outcomes_are_ignored() {
    let b = breaker(1, 1, 1);
    let t = Instant::now();
    let slow = b.acquire_at(t).unwrap(); // started while closed
    fail(&b, t);
    let later = t + Duration::from_millis(150);
    let probe = b.acquire_at(later).unwrap();
    slow.record(Outcome::Success); // from the closed era: ignored
    assert_eq!(b.state_at(later), CircuitState::HalfOpen);
    b.finish(probe.generation, probe.probe, Outcome::Failure, later);
    std::mem::forget(probe);
    assert_eq!(b.state_at(later), CircuitState::Open);
    assert!(b.acquire_at(later + Duration::from_millis(50)).is_err());
}

#[test]
fn dropped_probe_frees_its_slot() {
    let b = breaker(1, 1, 1);
    let t = Instant::now();
    fail(&b, t);
    let later = t + Duration::from_millis(150);
    drop(b.acquire_at(later).unwrap());
    assert!(b.acquire_at(later).is_ok());
}

#[test]
fn shared_by_origin_and_settings() {
    let c = BreakerConfig::default();
    let a = shared("http://127.0.0.1:1", c);
    assert!(Arc::ptr_eq(&a, &shared("http://127.0.0.1:1", c)));
    assert!(!Arc::ptr_eq(&a, &shared("http://127.0.0.1:2", c)));
    let other = BreakerConfig { failure_threshold: 2, ..c };
    assert!(!Arc::ptr_eq(&a, &shared("http://127.0.0.1:1", other)));
}
