//! A WHEP endpoint for the tests: `webrtc` crate peer connections serving what an ffmpeg
//! child sends over RTP (testsrc2 video in VP8 or H.264, a 440 Hz Opus tone).
//!
//! `POST /whep` with an SDP offer: `201`, the answer, `Location: /whep/session/N`;
//! `DELETE` there: `200`. Dropping the server kills ffmpeg, closes every peer
//! connection and the listener (a "server restart" is a drop and a new `start`).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Response, StatusCode};
use axum::routing::{delete, post};
use axum::Router;
use tokio::sync::Mutex;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MediaEngine, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::APIBuilder;
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp_transceiver::rtp_codec::RTCRtpCodecCapability;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::{TrackLocal, TrackLocalWriter};
use webrtc_util::Unmarshal;

/// The running server.
pub struct WhepServer {
    pub addr: SocketAddr,
    ffmpeg: Child,
    pcs: Arc<Mutex<Vec<Arc<RTCPeerConnection>>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// PLI/FIR packets received from subscribers.
    pub keyframe_requests: Arc<std::sync::atomic::AtomicU64>,
}

impl WhepServer {
    /// `POST http://{addr}/whep`.
    pub fn url(&self) -> String {
        format!("http://{}/whep", self.addr)
    }

    /// Closes every peer connection (DTLS close), then stops (see the module docs).
    pub async fn shutdown(mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for pc in self.pcs.lock().await.drain(..) {
            let _ = pc.close().await;
        }
        let _ = self.ffmpeg.kill();
        let _ = self.ffmpeg.wait();
    }
}

impl Drop for WhepServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        let _ = self.ffmpeg.kill();
        let _ = self.ffmpeg.wait();
    }
}

fn ffmpeg(h264: bool, vport: u16, aport: u16) -> Child {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-map", "0:v"]);
    if h264 {
        c.args(["-c:v", "libx264", "-profile:v", "baseline", "-level", "3.1"])
            .args([
                "-tune",
                "zerolatency",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ]);
    } else {
        c.args(["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"]);
    }
    c.args(["-g", "30", "-b:v", "800k", "-f", "rtp"])
        .arg(format!("rtp://127.0.0.1:{vport}?pkt_size=1200"))
        .args(["-map", "1:a", "-c:a", "libopus", "-b:a", "64k", "-f", "rtp"])
        .arg(format!("rtp://127.0.0.1:{aport}?pkt_size=1200"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ffmpeg")
}

fn cap(mime: &str, rate: u32, channels: u16, fmtp: &str) -> RTCRtpCodecCapability {
    RTCRtpCodecCapability {
        mime_type: mime.into(),
        clock_rate: rate,
        channels,
        sdp_fmtp_line: fmtp.into(),
        rtcp_feedback: vec![],
    }
}

/// Forwards RTP datagrams from `sock` to `track`.
async fn pump(sock: tokio::net::UdpSocket, track: Arc<TrackLocalStaticRTP>) {
    let mut buf = vec![0u8; 2048];
    while let Ok(n) = sock.recv(&mut buf).await {
        let mut b = &buf[..n];
        if let Ok(pkt) = rtp::packet::Packet::unmarshal(&mut b) {
            let _ = track.write_rtp(&pkt).await;
        }
    }
}

/// Starts serving on `addr` (port 0: any) with VP8 or H.264 video.
pub async fn start(addr: SocketAddr, h264: bool) -> WhepServer {
    let vsock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let asock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (vport, aport) = (
        vsock.local_addr().unwrap().port(),
        asock.local_addr().unwrap().port(),
    );
    let vcap = if h264 {
        cap(
            MIME_TYPE_H264,
            90_000,
            0,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        )
    } else {
        cap(MIME_TYPE_VP8, 90_000, 0, "")
    };
    let video = Arc::new(TrackLocalStaticRTP::new(
        vcap,
        "video".into(),
        "whep".into(),
    ));
    let audio = Arc::new(TrackLocalStaticRTP::new(
        cap(MIME_TYPE_OPUS, 48_000, 2, "minptime=10;useinbandfec=1"),
        "audio".into(),
        "whep".into(),
    ));
    let mut tasks = vec![
        tokio::spawn(pump(vsock, video.clone())),
        tokio::spawn(pump(asock, audio.clone())),
    ];
    let ffmpeg = ffmpeg(h264, vport, aport);
    let pcs: Arc<Mutex<Vec<Arc<RTCPeerConnection>>>> = Arc::default();
    let kf = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("bind WHEP");
    let addr = listener.local_addr().unwrap();
    let (p, k) = (pcs.clone(), kf.clone());
    let app = Router::new()
        .route(
            "/whep",
            post(move |body: String| {
                let (pcs, video, audio, kf) = (p.clone(), video.clone(), audio.clone(), k.clone());
                async move { answer(body, pcs, video, audio, kf).await }
            }),
        )
        .route("/whep/session/:n", delete(|| async { StatusCode::OK }));
    tasks.push(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    }));
    WhepServer {
        addr,
        ffmpeg,
        pcs,
        tasks,
        keyframe_requests: kf,
    }
}

async fn answer(
    offer: String,
    pcs: Arc<Mutex<Vec<Arc<RTCPeerConnection>>>>,
    video: Arc<TrackLocalStaticRTP>,
    audio: Arc<TrackLocalStaticRTP>,
    kf: Arc<std::sync::atomic::AtomicU64>,
) -> Response<Body> {
    let mut m = MediaEngine::default();
    m.register_default_codecs().unwrap();
    let registry = register_default_interceptors(Registry::new(), &mut m).unwrap();
    let mut se = SettingEngine::default();
    se.set_include_loopback_candidate(true);
    let api = APIBuilder::new()
        .with_media_engine(m)
        .with_interceptor_registry(registry)
        .with_setting_engine(se)
        .build();
    let pc = Arc::new(
        api.new_peer_connection(RTCConfiguration::default())
            .await
            .unwrap(),
    );
    for t in [video, audio] {
        let sender = pc
            .add_track(t as Arc<dyn TrackLocal + Send + Sync>)
            .await
            .unwrap();
        let kf = kf.clone();
        tokio::spawn(async move {
            while let Ok((pkts, _)) = sender.read_rtcp().await {
                for p in pkts {
                    let a = p.as_any();
                    if a.is::<rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication>()
                        || a.is::<rtcp::payload_feedbacks::full_intra_request::FullIntraRequest>()
                    {
                        kf.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        });
    }
    let r = async {
        pc.set_remote_description(RTCSessionDescription::offer(offer)?)
            .await?;
        let a = pc.create_answer(None).await?;
        let mut done = pc.gathering_complete_promise().await;
        pc.set_local_description(a).await?;
        let _ = done.recv().await;
        Ok::<_, webrtc::Error>(pc.local_description().await.unwrap().sdp)
    }
    .await;
    match r {
        Ok(sdp) => {
            let mut all = pcs.lock().await;
            all.push(pc);
            Response::builder()
                .status(StatusCode::CREATED)
                .header(header::CONTENT_TYPE, "application/sdp")
                .header(header::LOCATION, format!("/whep/session/{}", all.len()))
                .body(Body::from(sdp))
                .unwrap()
        }
        Err(e) => Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(Body::from(e.to_string()))
            .unwrap(),
    }
}
