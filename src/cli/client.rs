//! Client subcommands: one gRPC call each, printed as text or `--json`.

use tonic::codegen::http::Uri;
use tonic::{Request, Status};

use crate::cli::args::{ClientArgs, CreateArgs, DestroyArgs, EventsArgs, GetArgs, UpdateArgs};
use crate::cli::cloudroom_cfg;
use crate::cli::connect::connect;
use crate::cli::{json, layout_arg, output};
use crate::proto;

/// Host of `--server`: printed for RTP ports when the daemon binds every interface.
fn server_host(a: &ClientArgs) -> String {
    a.server
        .parse::<Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_owned))
        .unwrap_or_else(|| "127.0.0.1".into())
}

fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// `create`.
pub async fn create(a: CreateArgs) -> Result<(), Status> {
    let video_sources = a.source.iter().filter(|s| s.video.is_some()).count();
    let cfg = match &a.cloud_mixer_cfg {
        None => cloudroom_cfg::CloudMixerCfg::default(),
        Some(arg) => cloudroom_cfg::read(arg, a.layout.keep_aspect_ratio.unwrap_or(false))
            .map_err(|e| Status::invalid_argument(format!("--cloud-mixer-cfg: {e}")))?,
    };
    let (layout_config, layout_preset) =
        layout_arg::from_args(&a.layout, Some(video_sources), cfg.regions)?;
    let p = a.picture;
    let size = cfg.size.unwrap_or(p.size);
    let req = proto::CreateCloudMixerRequest {
        mixer_id: a.id,
        oper_user_id: a.oper_user,
        sources: a.source,
        video_file_cfg: Some(proto::VideoFileCfg {
            svr_path_name: cfg.svr_path_name.unwrap_or(a.out),
            v_width: size.0,
            v_height: size.1,
            v_fps: cfg.fps.unwrap_or(p.fps),
            v_bps: cfg.v_bps.unwrap_or(p.bps),
            background_color: cfg.background_color.unwrap_or(p.background),
            layout_config,
            layout_preset,
            a_bps: cfg.a_bps.unwrap_or(p.audio_bps),
            speaking_ring_color: a.decor.speaking_ring_color.clone(),
            region_border_color: a.decor.region_border_color.clone(),
            region_border_px: a.decor.region_border_px,
            background_image: a.decor.background_image()?,
            loudness_target_lufs: a.loudness_target_lufs,
            snapshot_interval_secs: a.snapshot_interval_secs,
            live_push_urls: a.live_push_urls.clone(),
            hls_segment_secs: a.hls_segment_secs,
        }),
        record_cfg: a.record.to_proto(),
        conference_id: a.conference_id.clone(),
        playout_delay_ms: a.playout_delay_ms,
        stale_timeout_ms: a.stale_timeout_ms,
    };
    let r = connect(&a.client)
        .await?
        .create_cloud_mixer(Request::new(req))
        .await?
        .into_inner();
    if a.client.json {
        print_json(&json::created(&r));
    } else {
        print!("{}", output::created(&r, &server_host(&a.client)));
    }
    Ok(())
}

/// `update`.
pub async fn update(a: UpdateArgs) -> Result<(), Status> {
    let given = match &a.cloud_mixer_cfg {
        None => None,
        Some(arg) => Some(update_regions(
            arg,
            a.layout.keep_aspect_ratio.unwrap_or(false),
        )?),
    };
    let (layout_config, layout_preset) = layout_arg::from_args(&a.layout, None, given)?;
    let req = proto::UpdateCloudMixerContentRequest {
        mixer_id: a.id,
        oper_user_id: a.oper_user,
        layout_config,
        layout_preset,
        add_sources: a.add_source,
        remove_camids: a.remove,
        source_mix: a.mix,
    };
    let r = connect(&a.client)
        .await?
        .update_cloud_mixer_content(Request::new(req))
        .await?
        .into_inner();
    if a.client.json {
        print_json(&json::updated(&r));
        return Ok(());
    }
    let host = server_host(&a.client);
    if let Some(info) = &r.info {
        println!(
            "mixer {}  {}  updated",
            info.mixer_id,
            output::state(info.state)
        );
    }
    for p in &r.added_source_ports {
        println!("  {}", output::ports_line(p, &host));
    }
    Ok(())
}

/// The regions of an update's `--cloud-mixer-cfg`. Errors: INVALID_ARGUMENT when it
/// does not parse, has no layoutConfig, or sets what a running mixer cannot change.
fn update_regions(arg: &str, keep_default: bool) -> Result<Vec<proto::LayoutRegion>, Status> {
    let bad = |e: String| Status::invalid_argument(format!("--cloud-mixer-cfg: {e}"));
    let cfg = cloudroom_cfg::read(arg, keep_default).map_err(bad)?;
    let fixed = [
        ("svrPathName", cfg.svr_path_name.is_some()),
        ("vWidth/vHeight", cfg.size.is_some()),
        ("vFps", cfg.fps.is_some()),
        ("vBps", cfg.v_bps.is_some()),
        ("aBps", cfg.a_bps.is_some()),
        ("backgroundColor", cfg.background_color.is_some()),
    ];
    if let Some((name, _)) = fixed.iter().find(|(_, given)| *given) {
        return Err(bad(format!(
            "videoFileCfg.{name} is fixed at create; an update changes only layoutConfig"
        )));
    }
    cfg.regions
        .ok_or_else(|| bad("videoFileCfg.layoutConfig is missing: nothing to update".into()))
}

/// `destroy`.
pub async fn destroy(a: DestroyArgs) -> Result<(), Status> {
    let req = proto::DestroyCloudMixerRequest {
        mixer_id: a.id,
        oper_user_id: a.oper_user,
    };
    let r = connect(&a.client)
        .await?
        .destroy_cloud_mixer(Request::new(req))
        .await?
        .into_inner();
    let info = r.info.unwrap_or_default();
    if a.client.json {
        print_json(&json::mixer_info(&info));
    } else {
        let out = info.output.clone().unwrap_or_default();
        println!("mixer {}  {}", info.mixer_id, output::state(info.state));
        println!("  {}", output::output_info(&out));
        println!("  {}", out.abs_path);
    }
    Ok(())
}

/// `get`.
pub async fn get(a: GetArgs) -> Result<(), Status> {
    let req = proto::GetCloudMixerRequest { mixer_id: a.id };
    let info = connect(&a.client)
        .await?
        .get_cloud_mixer(Request::new(req))
        .await?
        .into_inner();
    if a.client.json {
        print_json(&json::mixer_info(&info));
    } else {
        print!("{}", output::mixer_info(&info, &server_host(&a.client)));
    }
    Ok(())
}

/// `list`.
pub async fn list(a: ClientArgs) -> Result<(), Status> {
    let r = connect(&a)
        .await?
        .list_cloud_mixers(Request::new(proto::ListCloudMixersRequest {}))
        .await?
        .into_inner();
    if a.json {
        print_json(&json::list(&r));
    } else {
        println!("{}", output::LIST_HEADER);
        for m in &r.mixers {
            println!("{}", output::mixer_row(m));
        }
    }
    Ok(())
}

/// `events`: prints until Ctrl-C or the daemon ends the stream.
pub async fn events(a: EventsArgs) -> Result<(), Status> {
    let req = proto::WatchEventsRequest { mixer_id: a.mixer };
    let mut stream = connect(&a.client)
        .await?
        .watch_events(Request::new(req))
        .await?
        .into_inner();
    loop {
        tokio::select! {
            msg = stream.message() => match msg? {
                Some(e) if a.client.json => println!("{}", json::event(&e)),
                Some(e) => println!("{}", output::event_line(&e)),
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
