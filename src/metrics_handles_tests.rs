use super::*;

/// The cached counters are indexed by `format as usize`: that must be its place in `ALL`.
#[test]
fn a_format_s_discriminant_is_its_place_in_all() {
    for (i, format) in Format::ALL.iter().enumerate() {
        assert_eq!(*format as usize, i, "{format:?}");
    }
}

fn count(text: &str, labels: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with("errgate_normalized_responses_total{") && l.contains(labels))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().unwrap())
}

/// Built-in codes go through the per-route table, an upstream's own codes through the
/// registry; both count under the right labels.
#[test]
fn normalized_responses_count_per_code_and_format() {
    let metrics = Metrics::new();
    let route = RouteMetrics::new(&metrics, Arc::from("r"));
    for _ in 0..3 {
        route.normalized(codes::ALL[0], Format::Html);
    }
    route.normalized(codes::ALL[0], Format::SpringBoot);
    route.normalized("USER_NOT_FOUND", Format::Envelope);
    route.normalized("USER_NOT_FOUND", Format::Envelope);
    let text = metrics.render();
    let first = format!("error=\"{}\",format=\"html\"", codes::ALL[0]);
    assert_eq!(count(&text, &first), 3.0, "{text}");
    let spring = format!("error=\"{}\",format=\"spring_boot\"", codes::ALL[0]);
    assert_eq!(count(&text, &spring), 1.0, "{text}");
    let own = "error=\"USER_NOT_FOUND\",format=\"envelope\"";
    assert_eq!(count(&text, own), 2.0, "{text}");
}
