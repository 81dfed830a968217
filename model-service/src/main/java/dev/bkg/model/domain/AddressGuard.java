package dev.bkg.model.domain;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * The SSRF guard of downloads: only http and https, and no host that resolves to a loopback,
 * link-local, private (site-local, unique-local), wildcard or multicast address, unless the host
 * (or host:port) is on the allow-list (bkg.models.download.allowed-hosts). Checked again on every
 * redirect.
 */
public final class AddressGuard {

    private final List<String> allowed;

    public AddressGuard(List<String> allowedHosts) {
        this.allowed = allowedHosts.stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).filter(h -> !h.isEmpty()).toList();
    }

    /** The URI if it may be fetched; otherwise an IllegalArgumentException saying why not. */
    public URI check(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("only http and https URLs can be downloaded");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("the URL has no host");
        }
        String h = host.toLowerCase(Locale.ROOT);
        int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        if (allowed.contains(h) || allowed.contains(h + ":" + port)) {
            return uri;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(h.startsWith("[") ? h.substring(1, h.length() - 1) : h);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unknown host '" + ModelFiles.printable(host) + "'");
        }
        for (InetAddress address : addresses) {
            if (internal(address)) {
                throw new IllegalArgumentException("host '" + ModelFiles.printable(host) + "' is a loopback, link-local or "
                        + "private address; allow it with bkg.models.download.allowed-hosts");
            }
        }
        return uri;
    }

    static boolean internal(InetAddress a) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isAnyLocalAddress()
                || a.isMulticastAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet6Address) {
            return (b[0] & 0xfe) == 0xfc; // fc00::/7 unique local
        }
        // 100.64.0.0/10 (carrier-grade NAT) and 0.0.0.0/8
        return ((b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64) || b[0] == 0;
    }
}
