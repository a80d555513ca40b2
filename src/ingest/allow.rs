//! The allow-list of WHEP pull destinations (`--whep-allow`): which hosts and networks a
//! WHEP source's URL (and the session URL a server hands back in `Location`) may point
//! at. A WHEP URL comes from the control API, so without a list a caller could make the
//! daemon send requests to its own loopback services or to the cloud metadata endpoint
//! (169.254.169.254): server-side request forgery.
//!
//! Sans-IO: [`WhepAllow::check`] takes the host as written and the addresses it
//! resolved to; the callers resolve (at Create with the system resolver, at connect time
//! in `webrtc::http`, which then connects only to an address this list allowed, so a
//! DNS answer that changes in between does not get around it).
//!
//! Entries (comma-separated):
//! - `public`: every globally routable unicast address, i.e. not loopback, private
//!   (RFC 1918, RFC 6598 shared 100.64/10, IPv6 ULA fc00::/7), link-local (169.254/16,
//!   fe80::/10), unspecified, multicast, broadcast, documentation or other reserved
//!   ranges (IANA special-purpose registries, RFC 6890). The default list is `public`.
//! - a network `10.0.0.0/8`, `fd00::/8`, or one address `127.0.0.1`, `::1`;
//! - a host name `sfu.internal` (matched case-insensitively against the URL's host;
//!   allows whatever it resolves to: the operator trusts that name's DNS);
//! - `none`: nothing (WHEP pull disabled); only on its own.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are checked as the IPv4 address.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::OnceLock;

use ipnet::IpNet;

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Public,
    Net(IpNet),
    Host(String),
}

/// The WHEP allow-list; the default allows public addresses only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhepAllow {
    entries: Vec<Entry>,
}

impl Default for WhepAllow {
    fn default() -> Self {
        Self {
            entries: vec![Entry::Public],
        }
    }
}

/// Longest `--whep-allow` value, bytes.
pub const MAX_ALLOW_LIST_BYTES: usize = 16 * 1024;

impl FromStr for WhepAllow {
    type Err = String;

    /// Parses `public,10.0.0.0/8,sfu.internal` (see the module docs). Errors name the
    /// entry.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() > MAX_ALLOW_LIST_BYTES {
            return Err(format!("over {MAX_ALLOW_LIST_BYTES} bytes"));
        }
        let items: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if items.is_empty() {
            return Err("empty: give `none` to allow no WHEP host".into());
        }
        if items == ["none"] {
            return Ok(Self { entries: vec![] });
        }
        let entries = items
            .into_iter()
            .map(|e| {
                if e.eq_ignore_ascii_case("public") {
                    Ok(Entry::Public)
                } else if let Ok(net) = e.parse::<IpNet>() {
                    Ok(Entry::Net(net.trunc()))
                } else if let Ok(ip) = e.parse::<IpAddr>() {
                    Ok(Entry::Net(IpNet::from(ip)))
                } else if is_host_name(e) {
                    Ok(Entry::Host(e.to_ascii_lowercase()))
                } else {
                    Err(format!(
                        "{e:?} is not `public`, `none`, a network (10.0.0.0/8), an address or a host name"
                    ))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }
}

/// Letters, digits, `-` and `.`, 1..=253 bytes, at least one letter (so that an
/// unparsable address such as `10.0.0.300` is refused rather than taken for a name).
fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

impl WhepAllow {
    /// The addresses of `addrs` (what `host`, as written in the URL, resolved to) that
    /// the list allows; all of them if the list names `host`. Errors: none allowed, with
    /// the first refused address and its kind ("loopback", "link-local", ...).
    pub fn check(&self, host: &str, addrs: &[SocketAddr]) -> Result<Vec<SocketAddr>, String> {
        let host_l = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if self
            .entries
            .iter()
            .any(|e| matches!(e, Entry::Host(h) if *h == host_l))
        {
            return Ok(addrs.to_vec());
        }
        let ok: Vec<SocketAddr> = addrs
            .iter()
            .copied()
            .filter(|a| self.allows_ip(a.ip()))
            .collect();
        if !ok.is_empty() {
            return Ok(ok);
        }
        match addrs.first() {
            None => Err(format!("{host} resolved to no address")),
            Some(a) => Err(format!(
                "{host} is {} ({}), which --whep-allow does not allow",
                a.ip(),
                kind(a.ip().to_canonical())
            )),
        }
    }

    /// True if an entry allows `ip`.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.entries.iter().any(|e| match e {
            Entry::Public => is_public(ip),
            Entry::Net(n) => n.contains(&ip),
            Entry::Host(_) => false,
        })
    }
}

/// Special-purpose ranges that are not public (RFC 6890 and the IANA registries).
fn special() -> &'static [(IpNet, &'static str)] {
    static S: OnceLock<Vec<(IpNet, &'static str)>> = OnceLock::new();
    S.get_or_init(|| {
        [
            ("0.0.0.0/8", "unspecified"),
            ("10.0.0.0/8", "private"),
            ("100.64.0.0/10", "shared (carrier-grade NAT)"),
            ("127.0.0.0/8", "loopback"),
            ("169.254.0.0/16", "link-local (cloud metadata)"),
            ("172.16.0.0/12", "private"),
            ("192.0.0.0/24", "reserved"),
            ("192.0.2.0/24", "documentation"),
            ("192.88.99.0/24", "reserved"),
            ("192.168.0.0/16", "private"),
            ("198.18.0.0/15", "benchmarking"),
            ("198.51.100.0/24", "documentation"),
            ("203.0.113.0/24", "documentation"),
            ("224.0.0.0/4", "multicast"),
            ("240.0.0.0/4", "reserved"),
            ("::/128", "unspecified"),
            ("::1/128", "loopback"),
            ("64:ff9b::/96", "NAT64"),
            ("64:ff9b:1::/48", "NAT64"),
            ("100::/64", "discard"),
            ("2001::/23", "reserved"),
            ("2001:db8::/32", "documentation"),
            ("2002::/16", "6to4"),
            ("fc00::/7", "private (unique local)"),
            ("fe80::/10", "link-local"),
            ("fec0::/10", "site-local"),
            ("ff00::/8", "multicast"),
        ]
        .into_iter()
        .map(|(n, k)| (n.parse().expect("built-in network"), k))
        .collect()
    })
}

/// What kind of address `ip` is: a special-purpose kind, or "public".
fn kind(ip: IpAddr) -> &'static str {
    special()
        .iter()
        .find(|(n, _)| n.contains(&ip))
        .map_or("public", |(_, k)| *k)
}

/// True for a globally routable unicast address (none of [`special`]'s ranges).
pub fn is_public(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    ip != IpAddr::from([255, 255, 255, 255]) && kind(ip) == "public"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_default_refuses_loopback_private_link_local_and_metadata() {
        let d = WhepAllow::default();
        for a in [
            "127.0.0.1:80",
            "169.254.169.254:80",
            "10.1.2.3:80",
            "192.168.1.1:443",
            "172.20.0.1:80",
            "100.64.0.1:80",
            "0.0.0.0:80",
            "[::1]:80",
            "[fe80::1]:80",
            "[fd00::1]:80",
            "[::ffff:127.0.0.1]:80",
            "[::ffff:169.254.169.254]:80",
            "224.0.0.1:80",
            "255.255.255.255:80",
        ] {
            let e = d.check("h", &[sa(a)]).expect_err(a);
            assert!(e.contains("--whep-allow"), "{e}");
        }
        let e = d.check("meta", &[sa("169.254.169.254:80")]).unwrap_err();
        assert!(e.contains("link-local"), "{e}");
        for a in ["8.8.8.8:443", "[2606:4700::1111]:443", "1.1.1.1:80"] {
            assert_eq!(d.check("h", &[sa(a)]).unwrap(), vec![sa(a)]);
        }
    }

    #[test]
    fn only_allowed_addresses_of_a_name_are_kept() {
        let d = WhepAllow::default();
        let both = [sa("127.0.0.1:80"), sa("8.8.8.8:80")];
        assert_eq!(d.check("x", &both).unwrap(), vec![sa("8.8.8.8:80")]);
        assert!(d.check("x", &[]).is_err());
    }

    #[test]
    fn networks_addresses_and_names() {
        let l: WhepAllow = "127.0.0.0/8, ::1 ,Sfu.Internal,192.168.7.9"
            .parse()
            .unwrap();
        assert!(l.allows_ip("127.0.0.2".parse().unwrap()));
        assert!(l.allows_ip("::1".parse().unwrap()));
        assert!(l.allows_ip("192.168.7.9".parse().unwrap()));
        assert!(!l.allows_ip("192.168.7.8".parse().unwrap()));
        // `public` not listed: public addresses are refused too.
        assert!(!l.allows_ip("8.8.8.8".parse().unwrap()));
        let any = [sa("10.9.9.9:80")];
        assert_eq!(l.check("sfu.internal", &any).unwrap(), any.to_vec());
        assert_eq!(l.check("[::1]", &[sa("[::1]:80")]).unwrap().len(), 1);
        assert!(l.check("other", &any).is_err());
        let none: WhepAllow = "none".parse().unwrap();
        assert!(none.check("h", &[sa("8.8.8.8:80")]).is_err());
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        for bad in ["", " , ", "10.0.0.300", "10.0.0.0/33", "a b", "x_y", "ünï"] {
            let e = bad.parse::<WhepAllow>().expect_err(bad);
            assert!(!e.is_empty());
        }
        let e = "public,1.2.3.4/99".parse::<WhepAllow>().unwrap_err();
        assert!(e.contains("1.2.3.4/99"), "{e}");
    }
}
