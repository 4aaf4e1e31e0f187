//! Load-time checks: a component that cannot serve is refused with the
//! reason before any request reaches it.

use shallot::{Config, Hook, LoadError, Pipeline};
use shallot_tests::{runtime, with_guests};

async fn load(toml: &str) -> Result<Pipeline, LoadError> {
    let config = Config::parse("test.toml", &with_guests(toml)).unwrap();
    Pipeline::load_with(runtime(), &config).await
}

async fn load_err(toml: &str) -> String {
    match load(toml).await {
        Ok(_) => panic!("should be refused"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_middleware_exporting_no_hook_is_refused() {
    let err = load_err("[[middleware]]\nname = \"hello\"\ncomponent = \"{hello}\"\n").await;
    assert!(
        err.starts_with("test.toml:1: middleware `hello`: "),
        "{err}"
    );
    assert!(
        err.ends_with(
            "exports none of the middleware hooks (process-request, process-view, process-exception, \
             process-template-response, process-response of shallot:http@0.1.0); a middleware must \
             implement at least one"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_view_without_the_view_export_is_refused() {
    let err = load_err("[views.v]\ncomponent = \"{timing}\"\n").await;
    assert!(err.starts_with("test.toml:1: view `v`: "), "{err}");
    assert!(
        err.ends_with(
            "does not export shallot:http/view@0.1.0: a view component must export `handle`"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_component_importing_an_unknown_interface_is_refused_naming_it() {
    let err =
        load_err("[[middleware]]\nname = \"frob\"\ncomponent = \"{hostile-unknown-import}\"\n")
            .await;
    assert!(
        err.starts_with("test.toml:1: middleware `frob`: cannot link "),
        "{err}"
    );
    assert!(err.contains("acme:frob/frob"), "{err}");
}

#[tokio::test]
async fn a_file_that_is_not_a_component_is_refused() {
    let path = std::env::temp_dir().join(format!(
        "shallot-not-a-component-{}.wasm",
        std::process::id()
    ));
    std::fs::write(&path, b"\0asm this is not wasm").unwrap();
    let err = load_err(&format!(
        "[[middleware]]\nname = \"junk\"\ncomponent = \"{}\"\n",
        path.display()
    ))
    .await;
    std::fs::remove_file(&path).ok();
    assert!(
        err.starts_with("test.toml:1: middleware `junk`: cannot compile "),
        "{err}"
    );
}

#[tokio::test]
async fn hooks_are_detected_from_exports() {
    let p = load(
        "[[middleware]]\nname = \"request-id\"\ncomponent = \"{request-id}\"\n\
         [[middleware]]\nname = \"auth\"\ncomponent = \"{auth}\"\n\
         [[middleware]]\nname = \"security-headers\"\ncomponent = \"{security-headers}\"\n\
         [[middleware]]\nname = \"exception-json\"\ncomponent = \"{exception-json}\"\n\
         [[middleware]]\nname = \"probe\"\ncomponent = \"{probe}\"\n",
    )
    .await
    .unwrap();
    let hooks: Vec<(&str, Vec<Hook>)> = p
        .middleware()
        .iter()
        .map(|m| (m.name(), m.hooks()))
        .collect();
    use Hook::*;
    assert_eq!(
        hooks,
        [
            ("request-id", vec![ProcessRequest, ProcessResponse]),
            ("auth", vec![ProcessView]),
            ("security-headers", vec![ProcessResponse]),
            ("exception-json", vec![ProcessException]),
            (
                "probe",
                vec![
                    ProcessRequest,
                    ProcessView,
                    ProcessException,
                    ProcessTemplateResponse,
                    ProcessResponse
                ]
            ),
        ]
    );
    assert_eq!(
        shallot::pipeline::hook_table(&p),
        "middleware        process-request  process-view  process-exception  process-template-response  process-response\n\
         request-id        yes              -             -                  -                          yes\n\
         auth              -                yes           -                  -                          -\n\
         security-headers  -                -             -                  -                          yes\n\
         exception-json    -                -             yes                -                          -\n\
         probe             yes              yes           yes                yes                        yes\n"
    );
}

#[tokio::test]
async fn an_export_foreign_to_the_role_is_refused_not_ignored() {
    let err =
        load_err("[[middleware]]\nname = \"both\"\ncomponent = \"{hostile-extra-export}\"\n").await;
    assert!(
        err.ends_with(
            "exports `shallot:http/view@0.1.0`, which this host does not serve here (it serves \
             shallot:http/process-request@0.1.0, shallot:http/process-view@0.1.0, \
             shallot:http/process-exception@0.1.0, shallot:http/process-template-response@0.1.0, \
             shallot:http/process-response@0.1.0)"
        ),
        "{err}"
    );
    let err = load_err("[views.both]\ncomponent = \"{hostile-extra-export}\"\n").await;
    assert!(
        err.ends_with(
            "exports `shallot:http/process-response@0.1.0`, which this host does not serve here \
             (it serves shallot:http/view@0.1.0, shallot:http/body-source@0.1.0)"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_route_to_an_undefined_view_is_refused_by_the_library_too() {
    // Config::parse refuses this with a line number; a Config built in code
    // reaches Pipeline::load, which must refuse it as well.
    let mut config = Config::parse(
        "test.toml",
        &with_guests(
            "[views.v]\ncomponent = \"{probe-view}\"\n[[routes]]\npath = \"x\"\nview = \"v\"\n",
        ),
    )
    .unwrap();
    config.views.clear();
    let err = Pipeline::load_with(runtime(), &config).await.err().unwrap();
    assert_eq!(
        err.to_string(),
        "route 'x' names view `v`, which is not defined"
    );
}

#[tokio::test]
async fn a_load_error_names_its_component_and_keeps_its_cause() {
    let path = std::env::temp_dir().join(format!(
        "shallot-not-a-component-typed-{}.wasm",
        std::process::id()
    ));
    std::fs::write(&path, b"\0asm this is not wasm").unwrap();
    let err = load(&format!(
        "[[middleware]]\nname = \"junk\"\ncomponent = \"{}\"\n",
        path.display()
    ))
    .await
    .err()
    .expect("should be refused");
    std::fs::remove_file(&path).ok();
    let LoadError::Compile { at, source } = &err else {
        panic!("expected a compile error, got {err:?}");
    };
    assert_eq!(at.location, "test.toml:1");
    assert_eq!(at.label, "middleware `junk`");
    assert_eq!(at.path, path);
    // The cause is kept whole as the error's source, not flattened to text.
    let kept = std::error::Error::source(&err).expect("a source");
    assert_eq!(kept.to_string(), source.to_string());
    // The message already says it, chain included, for printers that do
    // not walk sources.
    assert!(err.to_string().contains(&source.to_string()), "{err}");

    let err = load("[[middleware]]\nname = \"kv\"\ncomponent = \"{sessions}\"\n")
        .await
        .err()
        .expect("should be refused");
    let LoadError::Ungranted { at, import, field } = &err else {
        panic!("expected an ungranted import, got {err:?}");
    };
    assert_eq!(at.label, "middleware `kv`");
    assert_eq!(import, "shallot:http/key-value@0.1.0");
    assert_eq!(*field, "key_value_stores");
}
