//! The preset ergonomics a new user meets, through the real binary and daemon:
//! `cloudmixer presets` lists what the daemon accepts with each tile's geometry (text and
//! `--json`, and `--offline` without a daemon), an unknown `--layout` is refused naming
//! the valid presets, and `--layout side-by-side` keeps the aspect ratio the preset file
//! asks for (as the default layout does) unless `--keep-aspect-ratio false` is given.

mod common;

use common::daemon::Daemon;

fn cloudmixer(args: &[&str]) -> std::process::Output {
    common::cloudmixer_cli(args)
}

fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn presets_are_listed_with_their_tiles_by_the_daemon_and_offline() {
    let d = Daemon::start();
    let server = d.endpoint();
    let o = cloudmixer(&["presets", "--server", &server]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    for name in [
        "single",
        "side-by-side",
        "picture-in-picture",
        "grid",
        "grid-3x3",
        "grid-4x4",
        "speaker",
    ] {
        assert!(
            out.contains(&format!("{name}  ")),
            "{name} missing from:\n{out}"
        );
    }
    assert!(
        out.contains("tiles: 640x360+0+180  640x360+640+180"),
        "{out}"
    );
    assert!(out.contains("400x225+880+495 z1"), "{out}");
    let offline = cloudmixer(&["presets", "--offline"]);
    assert_eq!(
        text(&offline).0,
        out,
        "the binary's presets are the daemon's"
    );

    let o = cloudmixer(&["presets", "--server", &server, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let sbs = v["presets"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "side-by-side"))
        .expect("side-by-side in the JSON");
    assert_eq!(sbs["tiles"][1]["left"], 640);
    assert_eq!(sbs["tiles"][1]["keepAspectRatio"], true);
}

#[test]
fn an_unknown_preset_names_the_valid_ones_and_presets_keep_their_aspect_ratio() {
    let d = Daemon::start();
    let server = d.endpoint();
    let o = cloudmixer(&[
        "create", "--server", &server, "--id", "p1", "--source", "Usr1.-1", "--layout", "mosaic",
    ]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("INVALID_ARGUMENT")
            && err.contains("\"mosaic\"")
            && err.contains("side-by-side, picture-in-picture"),
        "{err}"
    );

    let regions_of = |id: &str, extra: &[&str]| {
        let mut args = vec![
            "create",
            "--server",
            &server,
            "--id",
            id,
            "--source",
            "Usr1.-1",
            "--source",
            "Usr2.-1",
            "--layout",
            "side-by-side",
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = cloudmixer(&args);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        let regions = v["info"]["videoFileCfg"]["layoutConfig"].clone();
        assert!(regions.is_array(), "{out}");
        regions
    };
    let kept = regions_of("p2", &[]);
    assert_eq!(kept[0]["keepAspectRatio"], true, "{kept}");
    assert_eq!(kept[1]["keepAspectRatio"], true, "{kept}");
    let stretched = regions_of("p3", &["--keep-aspect-ratio", "false"]);
    assert_eq!(stretched[0]["keepAspectRatio"], false, "{stretched}");
}

#[test]
fn single_with_many_sources_shows_the_first() {
    let d = Daemon::start();
    let server = d.endpoint();
    let o = cloudmixer(&[
        "create", "--server", &server, "--id", "s1", "--source", "Usr1.-1", "--source", "Usr2.-1",
        "--layout", "single", "--json",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "single with two sources: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let regions = v["info"]["videoFileCfg"]["layoutConfig"]
        .as_array()
        .cloned()
        .expect("regions");
    assert_eq!(regions.len(), 1, "{out}");
    assert_eq!(
        regions[0]["param"]["camid"], "Usr1.-1",
        "the first source: {out}"
    );
}
