use super::*;
use crate::config_file::from_toml_str;

fn endpoints(extra: &str, n: usize) -> Arc<Endpoints> {
    let urls: Vec<String> = (0..n)
        .map(|i| format!("\"http://127.0.0.1:{}\"", 4000 + i))
        .collect();
    let toml = format!(
        "[upstreams.u]\nendpoints = [{}]\n{extra}\n[[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"u\"\n",
        urls.join(", ")
    );
    let config = from_toml_str(&toml).expect("valid test config");
    Arc::new(Endpoints::new(&config.upstreams["u"]))
}

#[test]
fn round_robin_visits_every_endpoint_in_turn() {
    let e = endpoints("", 3);
    let picks: Vec<_> = (0..6).map(|_| e.pick(Tried::default()).unwrap()).collect();
    assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
}

#[test]
fn a_retry_prefers_an_endpoint_not_tried_yet() {
    let e = endpoints("", 2);
    for _ in 0..10 {
        let first = e.pick(Tried::default()).unwrap();
        let mut tried = Tried::default();
        tried.add(first);
        assert_ne!(e.pick(tried), Some(first));
    }
    // With every endpoint tried, one is still returned.
    let mut all = Tried::default();
    all.add(0);
    all.add(1);
    assert!(e.pick(all).is_some());
}

#[test]
fn least_outstanding_avoids_the_busy_endpoint() {
    let e = endpoints("load_balancing = \"least_outstanding\"", 3);
    let _busy = [
        e.start(0).unwrap(),
        e.start(0).unwrap(),
        e.start(1).unwrap(),
    ];
    for _ in 0..6 {
        assert_eq!(e.pick(Tried::default()), Some(2));
    }
    drop(_busy);
    let spread: std::collections::BTreeSet<_> =
        (0..3).map(|_| e.pick(Tried::default()).unwrap()).collect();
    assert_eq!(spread.len(), 3, "ties rotate once nothing is outstanding");
}

#[test]
fn round_robin_keeps_no_outstanding_count() {
    let e = endpoints("", 2);
    assert!(e.start(0).is_none());
}

#[tokio::test(start_paused = true)]
async fn ejection_after_consecutive_failures_then_probation_and_recovery() {
    let e = endpoints("eject_after = 3\neject_for = \"10s\"", 2);
    assert!(!e.record_failure(0));
    e.record_success(0); // a success in between resets the count
    assert!(!e.record_failure(0));
    assert!(!e.record_failure(0));
    assert!(e.record_failure(0), "third consecutive failure ejects");
    assert!(!e.is_up(0));
    for _ in 0..4 {
        assert_eq!(e.pick(Tried::default()), Some(1));
    }
    tokio::time::advance(Duration::from_millis(9_999)).await;
    assert!(!e.is_up(0));
    tokio::time::advance(Duration::from_millis(2)).await;
    assert!(e.is_up(0), "back on probation after eject_for");

    // One failure on probation ejects again, for twice as long.
    assert!(e.record_failure(0));
    tokio::time::advance(Duration::from_millis(19_000)).await;
    assert!(!e.is_up(0));
    tokio::time::advance(Duration::from_millis(1_001)).await;
    assert!(e.is_up(0));

    // A success on probation restores it fully: it takes eject_after failures again.
    e.record_success(0);
    assert!(!e.record_failure(0));
    assert!(!e.record_failure(0));
    assert!(e.is_up(0));
}

#[tokio::test(start_paused = true)]
async fn ejection_growth_is_capped() {
    let e = endpoints("eject_after = 1\neject_for = \"1s\"", 1);
    for _ in 0..12 {
        assert!(e.record_failure(0));
        tokio::time::advance(Duration::from_secs(u64::from(MAX_EJECT_FACTOR))).await;
        assert!(
            e.is_up(0),
            "never out longer than {MAX_EJECT_FACTOR}x eject_for"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn all_ejected_means_no_endpoint() {
    let e = endpoints("eject_after = 1", 2);
    e.record_failure(0);
    e.record_failure(1);
    assert_eq!(e.pick(Tried::default()), None);
}

#[test]
fn eject_after_zero_never_ejects() {
    let e = endpoints("eject_after = 0", 1);
    for _ in 0..100 {
        assert!(!e.record_failure(0));
    }
    assert!(e.is_up(0));
}

#[test]
fn admission_is_bounded_and_released() {
    let e = endpoints("max_concurrent_requests = 2", 1);
    let a = e.admit().unwrap();
    let b = e.admit().unwrap();
    assert!(a.is_some() && b.is_some());
    assert_eq!(e.admit().unwrap_err(), Overloaded);
    drop(a);
    assert!(e.admit().is_ok());
}

#[test]
fn no_limit_admits_without_counting() {
    let e = endpoints("", 1);
    assert!(e.admit().unwrap().is_none());
}
