//! Snapshot tests of invalid configs (`host/tests/ui/*.toml`), each paired
//! with the exact error text in a `.err` file. `UPDATE_SNAPSHOTS=1` rewrites
//! the `.err` files; review the diff before committing.

use std::path::Path;

use super::Config;

#[test]
fn invalid_configs_give_their_exact_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for toml in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let err = match Config::load(toml) {
            Ok(_) => panic!("{} should be rejected", toml.display()),
            // Paths in messages are made relative so snapshots do not depend
            // on where the repository lives.
            Err(e) => e.to_string().replace(&format!("{}/", dir.display()), ""),
        };
        let snapshot = toml.with_extension("err");
        if update {
            std::fs::write(&snapshot, format!("{err}\n")).unwrap();
        }
        let expected = std::fs::read_to_string(&snapshot)
            .unwrap_or_else(|_| panic!("missing snapshot {}", snapshot.display()));
        assert_eq!(err, expected.trim_end(), "{}", toml.display());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} snapshots found");
}

#[test]
fn a_valid_config_keeps_middleware_order_and_resolves_paths() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let text = r#"
        [server]
        listen = "0.0.0.0:9000"

        [[middleware]]
        name = "z-first"
        component = "fixture.component"
        config = { n = 3, on = true, s = "x" }

        [[middleware]]
        name = "a-second"
        component = "fixture.component"

        [views.v]
        component = "fixture.component"

        [[routes]]
        path = "x/<int:id>/"
        view = "v"
        name = "x"
    "#;
    let config = Config::parse(dir.join("inline.toml"), text).unwrap();
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:9000");
    let names: Vec<&str> = config.middleware.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["z-first", "a-second"]);
    assert_eq!(
        config.middleware[0].component,
        dir.join("fixture.component")
    );
    assert_eq!(
        config.middleware[0].config,
        [
            ("n".to_owned(), "3".to_owned()),
            ("on".to_owned(), "true".to_owned()),
            ("s".to_owned(), "x".to_owned())
        ]
    );
    assert_eq!(config.server.max_body_bytes, 2_621_440);
    assert!(config.router.resolve("/x/7/").is_some());
}

#[test]
fn server_timing_is_off_unless_turned_on() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let off = Config::parse(dir.join("inline.toml"), "").unwrap();
    assert!(!off.server.server_timing);
    let on = Config::parse(dir.join("inline.toml"), "[server]\nserver_timing = true\n").unwrap();
    assert!(on.server.server_timing);
}

#[test]
fn otlp_sample_ratio_is_a_share_and_every_request_by_default() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let parse = |text: &str| Config::parse(dir.join("inline.toml"), text);
    let traced = |settings: &str| {
        parse(&format!(
            "[server]\notlp_endpoint = \"http://127.0.0.1:4318/v1/traces\"\n{settings}"
        ))
    };
    assert_eq!(traced("").unwrap().server.otlp_sample_ratio, 1.0);
    let tenth = traced("otlp_sample_ratio = 0.1\n").unwrap();
    assert_eq!(tenth.server.otlp_sample_ratio, 0.1);
    // Whole numbers are shares too: TOML writes 0 and 1 without a point.
    assert_eq!(
        traced("otlp_sample_ratio = 0\n")
            .unwrap()
            .server
            .otlp_sample_ratio,
        0.0
    );
}
