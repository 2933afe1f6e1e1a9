//! Message catalogs named in `errors.catalogs` reach clients: a new language and an override.

mod support;

use http::Request;
use support::*;

#[tokio::test]
async fn a_catalog_file_adds_a_language_and_overrides_messages() {
    let path = std::env::temp_dir().join(format!("errgate-fr-{}.toml", std::process::id()));
    let catalog = "[fr]\nUPSTREAM_UNAVAILABLE = \"Service indisponible\"\n[es]\nROUTE_NOT_FOUND = \"Aquí no hay nada\"\n";
    std::fs::write(&path, catalog).unwrap();
    let errors = format!("catalogs = [{:?}]\n", path.display().to_string());
    let toml = config_for(&refused_addr().await.to_string(), "")
        .replace(
            "default_locale = \"en\"\n",
            &format!("default_locale = \"en\"\n{errors}"),
        )
        .replace("path_prefix = \"/\"", "path_prefix = \"/api\"");
    let gw = Gateway::start(&toml).await;

    let fr = Request::get(gw.url("/api/x"))
        .header("accept-language", "fr-CA, en;q=0.5")
        .body(full(""))
        .unwrap();
    let (parts, body) = send(fr).await;
    assert_eq!(parts.headers["content-language"], "fr");
    assert_eq!(
        envelope(&body),
        ("UPSTREAM_UNAVAILABLE".into(), "Service indisponible".into())
    );

    let es = Request::get(gw.url("/nope"))
        .header("accept-language", "es")
        .body(full(""))
        .unwrap();
    let (_, body) = send(es).await;
    assert_eq!(
        envelope(&body),
        ("ROUTE_NOT_FOUND".into(), "Aquí no hay nada".into())
    );
}

#[tokio::test]
async fn a_broken_catalog_file_is_a_config_error() {
    let path =
        std::env::temp_dir().join(format!("errgate-bad-catalog-{}.toml", std::process::id()));
    std::fs::write(&path, "[fr]\nnot_a_code = \"x\"\n").unwrap();
    let toml = config_for("127.0.0.1:1", "").replace(
        "default_locale = \"en\"\n",
        &format!(
            "default_locale = \"en\"\ncatalogs = [{:?}]\n",
            path.display().to_string()
        ),
    );
    let config = errgate::config_file::from_toml_str(&toml).unwrap();
    let err = errgate::gateway::Gateway::new(config)
        .unwrap_err()
        .to_string();
    assert!(err.contains("fr.not_a_code"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
}
