//! Which addresses the connector may call when a seller names a shop, and the one HTTP client
//! that keeps to it.
//!
//! A seller types the store's address and the connector then calls it from the server, with
//! the store's keys. Left open, that would let anyone make the server call inside the
//! operator's network (`http://169.254.169.254/…`, `http://127.0.0.1:5432`, a private
//! address), directly, through a redirect, or through a name whose DNS answer changes. So,
//! unless the operator allows private addresses ([`AddressPolicy::AllowPrivate`], which `demo`
//! and the tests use for the sandbox on 127.0.0.1):
//! - a shop's address must be `https`, and a literal IP in it must be public;
//! - every name is resolved by `PublicOnly` when a connection is made, and a name with any
//!   non-public address is refused, so a DNS answer that changes after the check cannot reach
//!   inside (each new connection is checked again);
//! - redirects are never followed (the client's policy), and one that points at an address the
//!   policy refuses is reported as such.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const USER_AGENT: &str = concat!("marketbridge/", env!("CARGO_PKG_VERSION"));

/// Which shop addresses the connector may call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddressPolicy {
    /// `https` to public addresses only: the default of `serve` and `worker`.
    #[default]
    PublicOnly,
    /// Any `http`/`https` address, private ones included: `demo`, the tests, and operators who
    /// set `--allow-private-shop-urls` for stores on their own network.
    AllowPrivate,
}

/// Why an address was refused, in the seller's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error(
        "The store's address must start with https://: Marketbridge sends your store's keys only over an encrypted connection."
    )]
    NotHttps,
    #[error(
        "{host} is a private or local network address ({ip}), which Marketbridge is not allowed to call. Enter your store's public https address."
    )]
    Private { host: String, ip: IpAddr },
    #[error("{host} did not resolve to any address. Check the store's address.")]
    Unresolved { host: String },
    #[error(
        "Your store sends requests on to {location}, which Marketbridge will not follow: {why}"
    )]
    Redirect {
        location: String,
        why: Box<AddressError>,
    },
}

impl AddressPolicy {
    /// Refuses an address this policy does not allow, before any connection: the scheme, and
    /// a host written as an IP address. Names are checked when they are resolved.
    pub fn check(&self, url: &Url) -> Result<(), AddressError> {
        if *self == Self::AllowPrivate {
            return Ok(());
        }
        if url.scheme() != "https" {
            return Err(AddressError::NotHttps);
        }
        let refused = |ip: IpAddr| {
            (!is_public(ip)).then(|| AddressError::Private {
                host: url.host_str().unwrap_or_default().to_owned(),
                ip,
            })
        };
        let refusal = match url.host() {
            Some(Host::Ipv4(ip)) => refused(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => refused(IpAddr::V6(ip)),
            // `localhost` names the machine itself whatever DNS says (RFC 6761).
            Some(Host::Domain(name))
                if {
                    let name = name.trim_end_matches('.');
                    name == "localhost" || name.ends_with(".localhost")
                } =>
            {
                refused(IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            Some(Host::Domain(_)) | None => None,
        };
        refusal.map_or(Ok(()), Err)
    }

    /// [`Self::check`] for the target of a redirect the store answered.
    pub fn check_redirect(&self, location: &str) -> Result<(), AddressError> {
        let why = match Url::parse(location) {
            Ok(url) => self.check(&url),
            Err(_) => return Ok(()),
        };
        why.map_err(|why| AddressError::Redirect {
            location: location.to_owned(),
            why: Box::new(why),
        })
    }
}

/// The HTTP client for calls to shops, with the policy it keeps. Cheap to clone. It follows no
/// redirects: a redirect would carry the store's keys to an address the seller never typed.
#[derive(Clone)]
pub struct ShopHttp {
    client: reqwest::Client,
    policy: AddressPolicy,
}

impl ShopHttp {
    /// # Panics
    ///
    /// When the TLS backend cannot be initialised, which is a broken build rather than a
    /// runtime condition.
    pub fn new(policy: AddressPolicy) -> Self {
        Self::build(policy, None)
    }

    /// [`Self::new`] with names resolved by `lookup` instead of the system: for tests that
    /// need a name whose DNS answer they choose. The policy checks its answers as the
    /// system's.
    pub fn with_lookup(policy: AddressPolicy, lookup: Lookup) -> Self {
        Self::build(policy, Some(lookup))
    }

    fn build(policy: AddressPolicy, lookup: Option<Lookup>) -> Self {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(USER_AGENT);
        if policy == AddressPolicy::PublicOnly {
            // A proxy would resolve names itself, out of the resolver's sight.
            builder = builder.no_proxy().dns_resolver(Arc::new(PublicOnly {
                lookup: lookup.unwrap_or_else(|| Arc::new(system_lookup)),
            }));
        }
        Self {
            client: builder
                .build()
                .expect("the TLS backend of the HTTP client initialises"),
            policy,
        }
    }

    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    /// The client, for a request to a URL [`AddressPolicy::check`] has allowed.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl fmt::Debug for ShopHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShopHttp")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// How a name becomes addresses.
pub type Lookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>
        + Send
        + Sync,
>;

fn system_lookup(
    host: String,
) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
    Box::pin(async move {
        Ok(tokio::net::lookup_host((host.as_str(), 0))
            .await?
            .map(|addr| addr.ip())
            .collect())
    })
}

/// The resolver of [`AddressPolicy::PublicOnly`]: the answer for a name, refused as a whole
/// when any address in it is not public (a name that answers both a public and a private
/// address is as dangerous as one that answers only the private one).
struct PublicOnly {
    lookup: Lookup,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let lookup = (self.lookup)(host.clone());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = lookup
                .await?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if let Some(private) = addrs.iter().find(|addr| !is_public(addr.ip())) {
                return Err(AddressError::Private {
                    host,
                    ip: private.ip(),
                }
                .into());
            }
            if addrs.is_empty() {
                return Err(AddressError::Unresolved { host }.into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The first [`AddressError`] in an error's source chain: how a refusal by the resolver comes
/// back out of reqwest.
pub fn address_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a AddressError> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(found) = error.downcast_ref::<AddressError>() {
            return Some(found);
        }
        cause = error.source();
    }
    None
}

/// Whether an address is reachable on the public internet: not loopback, private, link-local,
/// shared (CGNAT), documentation, benchmarking, multicast, reserved or unspecified, in IPv4 or
/// IPv6, including IPv4 addresses written in IPv6 (mapped, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(segments[6], segments[7]));
    }
    // 6to4 (2002::/16) reaches the IPv4 address in bits 16 to 48.
    if segments[0] == 0x2002 {
        return is_public_v4(embedded_v4(segments[1], segments[2]));
    }
    // Only global unicast (2000::/3) is public; within it, Teredo (2001::/32), benchmarking
    // (2001:2::/48), ORCHID (2001:10::/28, 2001:20::/28) and documentation (2001:db8::/32,
    // 3fff::/20) are not.
    (segments[0] & 0xe000) == 0x2000
        && !(segments[0] == 0x2001
            && (segments[1] == 0
                || segments[1] == 2
                || (0x10..0x30).contains(&segments[1])
                || segments[1] == 0xdb8))
        && !(segments[0] == 0x3fff && segments[1] < 0x1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn inner_addresses_are_not_public_in_either_family() {
        for inner in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
        ] {
            assert!(!is_public(ip(inner)), "{inner} must not count as public");
        }
    }

    #[test]
    fn internet_addresses_are_public() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4007::64",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn public_only_wants_https_and_no_inner_literal() {
        let policy = AddressPolicy::PublicOnly;
        let check = |s: &str| policy.check(&Url::parse(s).unwrap());
        assert_eq!(check("http://shop.example"), Err(AddressError::NotHttps));
        assert!(check("https://shop.example/store").is_ok());
        for inner in [
            "https://127.0.0.1:8090/woo/demo-shop",
            "https://[::1]/",
            "https://[::ffff:7f00:1]/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.5",
            "https://2130706433/",
            "https://localhost:5432",
            "https://shop.localhost",
            "https://localhost./",
        ] {
            let refusal = check(inner).unwrap_err();
            assert!(
                matches!(refusal, AddressError::Private { .. }),
                "{inner}: {refusal:?}"
            );
            assert!(refusal.to_string().contains("not allowed"), "{refusal}");
        }
        assert!(
            AddressPolicy::AllowPrivate
                .check(&Url::parse("http://127.0.0.1:8090").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn a_redirect_to_an_inner_address_is_named_with_the_reason() {
        let refusal = AddressPolicy::PublicOnly
            .check_redirect("http://169.254.169.254/latest/meta-data")
            .unwrap_err();
        let message = refusal.to_string();
        assert!(message.contains("169.254.169.254"), "{message}");
        assert!(message.contains("will not follow"), "{message}");
        assert!(
            AddressPolicy::PublicOnly
                .check_redirect("https://www.shop.example")
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_name_with_any_inner_address_is_refused_even_beside_a_public_one() {
        let lookup: Lookup =
            Arc::new(|_host| Box::pin(async { Ok(vec![ip("93.184.216.34"), ip("10.0.0.7")]) }));
        let http = ShopHttp::with_lookup(AddressPolicy::PublicOnly, lookup);
        let error = http
            .client()
            .get("https://store.example/")
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            address_error(&error),
            Some(&AddressError::Private {
                host: "store.example".to_owned(),
                ip: ip("10.0.0.7")
            })
        );
    }

    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused_when_connecting() {
        let http = ShopHttp::new(AddressPolicy::PublicOnly);
        // `localhost` resolves to loopback through the system resolver: refused at connection
        // time, before any byte is sent.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let error = http
            .client()
            .get(format!("https://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        let refusal = address_error(&error).expect("the resolver's refusal is in the chain");
        assert!(
            matches!(refusal, AddressError::Private { host, .. } if host == "localhost"),
            "{refusal:?}"
        );
    }
}
