//! Self-care content against the real test region (ADR 0011): the region publishes its
//! articles (Swedish, English, Finnish; with images) and assigns three to the patient;
//! one sync brings them; with the network cut every assigned article and image reads
//! offline; an edit of one article fetches only that one; the storage budget evicts
//! only general content.

use std::time::Duration;

use nara_core::domain::content::{ArticleId, ContentLanguage};
use nara_core::sync::transport::TransportConfig;
use nara_tests::fault_proxy::dev_transport;
use nara_tests::region::{region, sync_finished};

const PATIENT: &str = "bertil-1";

fn id(s: &str) -> ArticleId {
    ArticleId::parse(s).expect("article id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigned_articles_read_offline_an_edit_fetches_one_and_the_budget_spares_them() {
    let region = region();
    region.nurse(&["publish-fixtures"]);
    // An article of this run, to edit later without touching the shared fixtures.
    let run = format!(
        "upd-{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let body = dir.path().join("body.md");
    // The region publishes this run's article (Swedish) with `text` as its body.
    let publish = |text: &str| {
        std::fs::write(&body, text).expect("writes");
        let body_path = body.to_str().expect("utf-8");
        region.nurse(&[
            "publish-article",
            &run,
            "--lang",
            "sv",
            "--file",
            body_path,
            "--title",
            "Vila först",
        ]);
    };
    publish("# Vila före mätningen\n\nSitt still i fem minuter.\n");
    region.nurse(&[
        "assign",
        PATIENT,
        "bp-measure-sv",
        "diabetes-food-sv",
        &format!("{run}-sv"),
    ]);

    let (nara, _) = region
        .phone(&dir.path().join("data"), "content", "bertil")
        .await;
    let first = sync_finished(&nara, Duration::from_secs(60)).await;
    assert!(
        first.articles_received >= 7,
        "every published version: {first:?}"
    );
    let content = nara.content();
    let assigned = vec![id("bp-measure"), id("diabetes-food"), id(&run)];
    assert_eq!(content.assigned().expect("assigned"), assigned);
    let list = content.list(ContentLanguage::En).expect("list");
    let for_you: Vec<_> = list
        .iter()
        .filter(|a| a.assigned)
        .map(|a| a.id.clone())
        .collect();
    assert_eq!(for_you, assigned, "for you first, in the care team's order");
    assert!(list.iter().take(3).all(|a| a.assigned));

    // The network is cut: the region is unreachable from now on.
    nara.region().set_transport(TransportConfig {
        allow_http_loopback: false,
        ..TransportConfig::default()
    });
    for (article, lang) in [
        ("bp-measure", ContentLanguage::Sv),
        ("bp-measure", ContentLanguage::En),
        ("diabetes-food", ContentLanguage::En),
        (run.as_str(), ContentLanguage::Sv),
    ] {
        assert!(
            content
                .is_available_offline(&id(article), lang)
                .expect("checks"),
            "{article} ({lang:?}) with its images"
        );
        let read = content
            .read(&id(article), lang)
            .expect("reads")
            .expect("there");
        assert!(!read.document.blocks.is_empty(), "{article} reads offline");
    }
    let (kind, png) = content
        .image(&nara_core::domain::content::ImageId::parse("bp-cuff-position").expect("id"))
        .expect("reads")
        .expect("the image is on the phone");
    assert_eq!(kind, "image/png");
    assert!(png.starts_with(b"\x89PNG"));
    let offline = nara.region().sync_now(Duration::from_secs(5), |_| {}).await;
    assert!(
        offline.as_ref().map_or(true, |r| !r.finished),
        "the region is unreachable: {offline:?}"
    );

    // The region edits one article: the next sync fetches that one only.
    nara.region().set_transport(dev_transport());
    publish("# Vila före mätningen\n\nSitt still i fem minuter, med stöd för ryggen.\n");
    let second = sync_finished(&nara, Duration::from_secs(60)).await;
    assert_eq!(
        second.articles_received, 1,
        "only the edited article: {second:?}"
    );
    let third = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert_eq!(
        third.articles_received, 0,
        "nothing new, nothing counted: {third:?}"
    );
    let read = content
        .read(&id(&run), ContentLanguage::Sv)
        .expect("reads")
        .expect("there");
    assert!(format!("{:?}", read.document).contains("stöd för ryggen"));

    // A budget of nothing: general content goes, assigned content stays.
    content.set_budget(0).expect("budget");
    for a in content.list(ContentLanguage::Sv).expect("list") {
        if a.assigned {
            assert!(a.available_offline, "{} is assigned and kept", a.id);
        } else {
            assert!(!a.available_offline, "{} is general and evicted", a.id);
        }
    }
    assert!(
        content
            .list(ContentLanguage::Sv)
            .expect("list")
            .iter()
            .any(|a| !a.assigned),
        "general articles stay listed"
    );
}
