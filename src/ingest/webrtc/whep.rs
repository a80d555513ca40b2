//! WHEP client: the mixer pulls a source from a media server's WHEP endpoint (POST an
//! SDP offer, receive the answer: draft-ietf-wish-whep), and reconnects with
//! exponential backoff ([`BACKOFF_MIN`]..[`BACKOFF_MAX`]) whenever the session cannot be
//! set up or breaks (ICE failure/disconnect, server restart). Each attempt's outcome is
//! a `SourceStateChanged` event: connected, disconnected (with the reason), reconnecting.
//! Every exchange goes through [`super::http`]: only to hosts the daemon's allow-list
//! allows, the bearer token only to the configured URL's origin (a session `Location`
//! on another origin gets its DELETE without it).

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use tokio::sync::{mpsc, watch};
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;

use super::http::{request, WhepClient};
use super::{
    add_receivers, gathered_sdp, new_peer_connection, peer, ConnectionState, RtcError, SourceRtc,
};
use crate::model::SourceSpec;

/// First wait before reconnecting.
pub const BACKOFF_MIN: Duration = Duration::from_millis(500);
/// Longest wait between attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(8);

enum End {
    Stopped,
    Lost(String),
}

/// Starts the client task of one WHEP source on the current runtime; it ends when
/// `stop` turns true or is dropped (sending DELETE for its session). `client`: the
/// daemon's allow-list and https roots.
pub fn spawn(
    rtc: SourceRtc,
    client: WhepClient,
    (url, token): (String, String),
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let rt = rtc.link.runtime().clone();
    rt.spawn(run(rtc, client, url, token, stop))
}

async fn run(
    rtc: SourceRtc,
    client: WhepClient,
    url: String,
    token: String,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let reason = match session(&rtc, &client, (&url, &token), &mut stop).await {
            Ok(End::Stopped) => return,
            Ok(End::Lost(reason)) => {
                backoff = BACKOFF_MIN;
                reason
            }
            Err(e) => e.to_string(),
        };
        rtc.events
            .emit(ConnectionState::Disconnected, reason.clone());
        rtc.events.emit(
            ConnectionState::Reconnecting,
            format!("{reason}; retrying in {} ms", backoff.as_millis()),
        );
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

async fn session(
    rtc: &SourceRtc,
    client: &WhepClient,
    (url, token): (&str, &str),
    stop: &mut watch::Receiver<bool>,
) -> Result<End, RtcError> {
    let pc = new_peer_connection(&rtc.spec, rtc.settings).await?;
    let (end_tx, mut end_rx) = mpsc::unbounded_channel::<&'static str>();
    peer::attach(
        &pc,
        rtc,
        Arc::new(move |reason| {
            let _ = end_tx.send(reason);
        }),
    );
    let setup = async {
        set_offer(&pc, &rtc.spec).await?;
        let offer = gathered_sdp(&pc).await?;
        let resp = request(client, Method::POST, (url, url), token, Some(offer)).await?;
        if resp.status != StatusCode::CREATED && resp.status != StatusCode::OK {
            return Err(RtcError::Http(format!(
                "WHEP POST {url}: HTTP {}: {}",
                resp.status,
                resp.body.trim()
            )));
        }
        apply_answer(&pc, resp.body).await?;
        Ok(resp.location)
    }
    .await;
    let location = match setup {
        Ok(l) => l,
        Err(e) => {
            let _ = pc.close().await;
            return Err(e);
        }
    };
    rtc.link.replace(Some(pc.clone()));
    let end = tokio::select! {
        _ = stop.changed() => End::Stopped,
        r = end_rx.recv() => End::Lost(r.unwrap_or("closed").to_owned()),
    };
    rtc.link.replace(None);
    let _ = pc.close().await;
    if let Some(loc) = location {
        // Best effort: the server may be the one that went away.
        // The token only if `loc` is on the configured URL's origin; a refused host is
        // not contacted at all.
        let _ = request(client, Method::DELETE, (url, &loc), token, None).await;
    }
    Ok(end)
}

/// Adds the receivers of `spec` to `pc`, creates the offer and sets it as the local
/// description (which starts ICE gathering).
pub async fn set_offer(pc: &RTCPeerConnection, spec: &SourceSpec) -> Result<(), RtcError> {
    add_receivers(pc, spec).await?;
    let offer = pc.create_offer(None).await?;
    pc.set_local_description(offer).await?;
    Ok(())
}

/// Sets the WHEP server's answer (the POST response body) as the remote description of
/// `pc`. Errors: the `webrtc` crate refuses it (not SDP, no fingerprint, ...).
pub async fn apply_answer(pc: &RTCPeerConnection, answer: String) -> Result<(), RtcError> {
    pc.set_remote_description(RTCSessionDescription::answer(answer)?)
        .await?;
    Ok(())
}
