//! Rendering: Django's Jinja2-backend conventions on the host's template
//! engine (inheritance, includes, escaping, the globals a Django project's
//! Jinja2 environment provides), the `[templates]` limits, and load-time
//! refusal of broken templates.

use shallot::Pipeline;
use shallot_tests::{Outcome, config, get, pipeline, request, run, runtime, template_dir};

/// A pipeline with `request-id` in front of the probe view at `/page/`
/// rendering `template` from `files`; `settings` goes into `[templates]`.
async fn render(files: &[(&str, &str)], template: &str, settings: &str, uri: &str) -> Outcome {
    let p = pipeline(&app(files, template, settings)).await;
    run(&p, get(uri)).await
}

fn app(files: &[(&str, &str)], template: &str, settings: &str) -> String {
    let dir = template_dir(files);
    format!(
        "[templates]\ndirs = [\"{}\"]\n{settings}\n\
         [[middleware]]\nname = \"rid\"\ncomponent = \"{{request-id}}\"\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:{template}\" }}\n\
         [[routes]]\npath = \"page/\"\nview = \"v\"\nname = \"page\"\n\
         [[routes]]\npath = \"items/<int:pk>/\"\nview = \"v\"\nname = \"item\"\n\
         [[routes]]\npath = \"shop/\"\nnamespace = \"shop\"\n\
         [[routes.include]]\npath = \"<slug:cat>/<int:page>/\"\nview = \"v\"\nname = \"list\"\n",
        dir.display()
    )
}

fn failed_with(out: &Outcome, text: &str) {
    assert_eq!(out.response.status(), 500, "{}", out.body());
    assert!(
        out.log.iter().any(|l| l.contains(text)),
        "no log line contains {text:?}: {:#?}",
        out.log
    );
}

#[tokio::test]
async fn inheritance_blocks_includes_and_autoescape() {
    let files = [
        (
            "base.html",
            "<title>{% block title %}Site{% endblock %}</title>{% block body %}{% endblock %}",
        ),
        (
            "page.html",
            "{% extends \"base.html\" %}{% block title %}{{ who }} - {{ super() }}{% endblock %}\
             {% block body %}{% include \"part.html\" %}|{{ markup|safe }}{% endblock %}",
        ),
        ("part.html", "{{ markup }}"),
    ];
    let out = render(&files, "page.html", "", "/page/").await;
    assert_eq!(out.response.status(), 200);
    assert_eq!(
        out.body(),
        "<title>view - Site</title>&lt;b&gt;&amp;&lt;/b&gt;|<b>&</b>"
    );
}

#[tokio::test]
async fn only_html_and_xml_are_autoescaped() {
    let out = render(&[("page.txt", "{{ markup }}")], "page.txt", "", "/page/").await;
    assert_eq!(out.body(), "<b>&</b>");
    let out = render(&[("feed.xml", "{{ markup }}")], "feed.xml", "", "/page/").await;
    assert_eq!(out.body(), "&lt;b&gt;&amp;&lt;/b&gt;");
}

#[tokio::test]
async fn a_template_in_an_earlier_folder_wins() {
    let first = template_dir(&[("page.html", "first")]);
    let second = template_dir(&[("page.html", "second"), ("only.html", "only in second")]);
    let toml = format!(
        "[templates]\ndirs = [\"{}\", \"{}\"]\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:nope.html,page.html\" }}\n\
         [views.w]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:only.html\" }}\n\
         [[routes]]\npath = \"v\"\nview = \"v\"\n[[routes]]\npath = \"w\"\nview = \"w\"\n",
        first.display(),
        second.display()
    );
    let p = pipeline(&toml).await;
    assert_eq!(run(&p, get("/v")).await.body(), "first");
    assert_eq!(run(&p, get("/w")).await.body(), "only in second");
}

#[tokio::test]
async fn url_reverses_routes_with_args_kwargs_and_namespaces() {
    let files = [(
        "page.html",
        "{{ url('page') }} {{ url('item', 7) }} {{ url('item', pk=42) }} \
         {{ url('shop:list', cat='tea-pots', page=2) }}",
    )];
    let out = render(&files, "page.html", "", "/page/").await;
    assert_eq!(out.body(), "/page/ /items/7/ /items/42/ /shop/tea-pots/2/");
}

#[tokio::test]
async fn url_without_a_match_is_a_render_failure_naming_django_s_error() {
    let files = [("page.html", "line one\n{{ url('item', pk='x') }}")];
    let out = render(&files, "page.html", "", "/page/").await;
    failed_with(&out, "NoReverseMatch");
    failed_with(&out, "page.html:2");
}

#[tokio::test]
async fn static_joins_static_url_and_quotes_the_path() {
    let files = [(
        "page.html",
        "{{ static('css/site.css') }} {{ static('img/a b.png') }} {{ static('/abs.js') }}",
    )];
    let out = render(&files, "page.html", "", "/page/").await;
    assert_eq!(
        out.body(),
        "/static/css/site.css /static/img/a%20b.png /abs.js"
    );
    let out = render(
        &files,
        "page.html",
        "[static]\nurl = \"https://cdn.example/assets/\"",
        "/page/",
    )
    .await;
    assert_eq!(
        out.body(),
        "https://cdn.example/assets/css/site.css https://cdn.example/assets/img/a%20b.png \
         https://cdn.example/abs.js"
    );
}

#[tokio::test]
async fn with_a_collected_manifest_static_links_the_hashed_name_and_refuses_an_unknown_one() {
    // What `collectstatic` leaves in `[static] root`.
    let root = template_dir(&[(
        "staticfiles.json",
        r#"{"paths": {"css/site.css": "css/site.0123456789ab.css"}, "version": "1.1", "hash": "x"}"#,
    )]);
    let settings = format!("[static]\nroot = \"{}\"", root.display());
    let files = [("page.html", "{{ static('css/site.css') }}")];
    let out = render(&files, "page.html", &settings, "/page/").await;
    assert_eq!(out.body(), "/static/css/site.0123456789ab.css");
    let files = [("page.html", "{{ static('css/missing.css') }}")];
    let out = render(&files, "page.html", &settings, "/page/").await;
    failed_with(
        &out,
        "Missing staticfiles manifest entry for 'css/missing.css'",
    );
}

#[tokio::test]
async fn request_and_csrf_are_in_every_context() {
    let files = [(
        "page.html",
        "{{ request.method }} {{ request.path }} {{ request.GET.q }} {{ request.request_id }} \
         [{{ csrf_token }}] {{ csrf_input }} {{ request.missing }}.",
    )];
    let p = pipeline(&app(&files, "page.html", "")).await;
    let out = run(
        &p,
        request("GET", "/page/?q=a%26b&q=last", &[("x-request-id", "rid-1")]),
    )
    .await;
    // request.GET shows a parameter's last value, as a QueryDict does;
    // without a CSRF middleware the token is empty.
    assert_eq!(
        out.body(),
        "GET /page/ last rid-1 [] \
         <input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"\"> ."
    );
}

// ===== limits =====

#[tokio::test]
async fn a_runaway_loop_runs_out_of_fuel_at_its_request() {
    let files = [(
        "page.html",
        "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
    )];
    let p = pipeline(&app(&files, "page.html", "")).await;
    let out = run(&p, get("/page/")).await;
    failed_with(&out, "ran out of fuel");
    // The worker is free: the next request is served.
    assert_eq!(run(&p, get("/missing")).await.response.status(), 404);
}

#[tokio::test]
async fn output_past_max_output_kib_fails_the_rendering() {
    let files = [("page.html", "{% for i in range(2000) %}x{% endfor %}")];
    let out = render(&files, "page.html", "max_output_kib = 1", "/page/").await;
    failed_with(&out, "max_output_kib");
    let out = render(&files, "page.html", "max_output_kib = 2", "/page/").await;
    assert_eq!(out.body().len(), 2000);
}

#[tokio::test]
async fn a_template_including_itself_hits_the_recursion_limit() {
    let files = [("page.html", "a{% include \"page.html\" %}")];
    let out = render(&files, "page.html", "recursion_limit = 20", "/page/").await;
    failed_with(&out, "recursion");
}

// ===== load =====

#[tokio::test]
async fn a_template_syntax_error_refuses_the_pipeline_naming_file_and_line() {
    let files = [
        ("good.html", "fine"),
        ("sub/bad.html", "line one\n{% for x in %}\n{% endfor %}"),
    ];
    let cfg = config(&app(&files, "good.html", ""));
    let err = match Pipeline::load_with(runtime(), &cfg).await {
        Ok(_) => panic!("a broken template must refuse the pipeline"),
        Err(e) => e.to_string(),
    };
    assert!(err.starts_with("cannot load templates: "), "{err}");
    assert!(err.contains("sub/bad.html:2: "), "{err}");
}

// ===== context processors and filter components =====

/// The probe view rendering `template` behind a probe middleware `m`, with
/// `[templates]` holding `extra` (context processor and filter entries).
fn with_components(files: &[(&str, &str)], view_action: &str, extra: &str) -> String {
    let dir = template_dir(files);
    format!(
        "[templates]\ndirs = [\"{}\"]\n{extra}\n\
         [[middleware]]\nname = \"m\"\ncomponent = \"{{probe}}\"\n[middleware.config]\nname = \"m\"\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{view_action}\" }}\n\
         [[routes]]\npath = \"page/\"\nview = \"v\"\n",
        dir.display()
    )
}

const PROCESSORS: &str = "[[templates.context_processors]]\nname = \"first\"\ncomponent = \"{site-context}\"\n\
     [[templates.context_processors]]\nname = \"second\"\ncomponent = \"{site-context}\"\n\
     config = { site = \"Second\" }\n";

#[tokio::test]
async fn context_processors_do_not_run_for_a_plain_response() {
    let p = pipeline(&with_components(&[], "ok", PROCESSORS)).await;
    let out = run(&p, get("/page/")).await;
    assert_eq!(
        out.calls,
        [
            "m.process-request",
            "m.process-view",
            "v.handle",
            "m.process-response"
        ]
    );
}

const FILTERS: &str = "[[templates.filters]]\nname = \"text\"\ncomponent = \"{text-filters}\"\n";

async fn load_error(toml: &str) -> String {
    match Pipeline::load_with(runtime(), &config(toml)).await {
        Ok(_) => panic!("the pipeline must be refused"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_template_using_an_unknown_filter_is_refused_at_load() {
    let files = [
        ("ok.html", "{{ who|upper|shout }}"),
        ("page.html", "\n\n{{ who|markdown }}"),
    ];
    let err = load_error(&with_components(&files, "ok", FILTERS)).await;
    assert!(
        err.ends_with("page.html:3: no filter named \"markdown\" (neither built in nor provided by a [[templates.filters]] component)"),
        "{err}"
    );
}

#[tokio::test]
async fn a_filter_provided_twice_is_refused_at_load() {
    let extra = format!(
        "{FILTERS}[[templates.filters]]\nname = \"again\"\ncomponent = \"{{text-filters}}\"\n"
    );
    let err = load_error(&with_components(&[], "ok", &extra)).await;
    assert_eq!(
        err,
        "cannot load templates: filter \"shout\" of filter component `again` is also provided by filter component `text`"
    );
}

// ===== the example app =====

/// `examples/movies`: list and detail pages linked with `url()`, the
/// context processor's site name, the filter component on the detail page.
pub(crate) async fn movies() {
    let (path, text) = shallot_tests::example_config("movies");
    let cfg = shallot::Config::parse(&path, &text).unwrap();
    let p = Pipeline::load_with(runtime(), &cfg).await.unwrap();

    let out = run(&p, get("/movies/")).await;
    assert_eq!(out.response.status(), 200, "{:#?}", out.log);
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let body = out.body();
    assert_eq!(body.matches("<tr class=").count(), 50, "{body}");
    assert!(
        body.contains("<title>Now showing - Shallot Cinema</title>"),
        "{body}"
    );
    assert!(body.contains("<link rel=\"stylesheet\" href=\"/static/css/site.css\">"));
    assert!(
        body.contains(
            "<tr class=\"even\"><td><a href=\"/movies/2/\">Movie 2</a></td><td>1952</td><td>74</td>\
         <td>Episode 2 of love &amp; &lt;loss&gt; in the city, told slowly</td></tr>"
        ),
        "{body}"
    );
    assert!(body.contains("<span class=\"user\">anonymous</span>"));
    assert!(out.header("x-request-id").is_some());

    let out = run(&p, get("/movies/7/")).await;
    assert_eq!(out.response.status(), 200);
    let body = out.body();
    assert!(body.contains("<h1>MOVIE 7!</h1>"), "{body}");
    assert!(
        body.contains("<p class=\"tagline\">Episode 7 of love …</p>"),
        "{body}"
    );
    assert!(body.contains("<a href=\"/movies/\">All movies</a>"));

    assert_eq!(run(&p, get("/movies/51/")).await.response.status(), 404);
}

#[tokio::test]
async fn the_movies_example_serves_linked_pages() {
    movies().await;
}

/// On a multi-threaded runtime filters run inline, their guest calls
/// waited for in place (`block_in_place`); the other tests run on a
/// single-threaded one, where rendering moves to a blocking thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_filters_run_inline_on_a_multi_threaded_runtime() {
    let files = [
        ("page.html", "{{ 'hi'|shout }} {{ markup|emphasize }}"),
        ("boom.html", "{{ 1|explode }}"),
    ];
    let p = pipeline(&with_components(&files, "template:page.html", FILTERS)).await;
    let out = run(&p, get("/page/")).await;
    assert_eq!(out.body(), "HI! <em>&lt;b&gt;&amp;&lt;/b&gt;</em>");
    let p = pipeline(&with_components(&files, "template:boom.html", FILTERS)).await;
    assert_eq!(run(&p, get("/page/")).await.response.status(), 500);
}
