package org.tuntap.examples;

import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The tunnel's command line; every failure is an {@link IllegalArgumentException} whose message
 * is one line naming the option, thrown before any device or socket is opened.
 */
final class TunnelOptions {
    static final String USAGE = String.join("\n",
            "usage: java -jar tun-vpn.jar --device NAME --listen IP:PORT --peer IP:PORT [--offload] [--link-mtu BYTES]",
            "  --device    the TUN device (an existing persistent one is attached to, else it is created)",
            "  --listen    the local UDP address (a literal; [IPv6]:PORT)",
            "  --peer      the other end's UDP address; datagrams from anywhere else are dropped",
            "  --offload   virtio-net headers and every offload on the device, UDP GSO/GRO on the socket;",
            "              the peer must run with --offload too",
            "  --link-mtu  the MTU of the path to the peer, 576 to 65535 (default 1500): no datagram",
            "              the tunnel sends is larger than this allows",
            "exit status: 0 stopped as asked; 1 the device or socket failed; 2 bad options");

    String device;
    InetSocketAddress listen;
    InetSocketAddress peer;
    boolean offload;
    int linkMtu = 1500;

    static TunnelOptions parse(String... args) {
        TunnelOptions options = new TunnelOptions();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> options.device = deviceName(value(args, ++i));
                case "--listen" -> options.listen = socketAddress("--listen", value(args, ++i));
                case "--peer" -> options.peer = socketAddress("--peer", value(args, ++i));
                case "--offload" -> options.offload = true;
                case "--link-mtu" -> options.linkMtu = number("--link-mtu", value(args, ++i), 576, 65535);
                default -> throw new IllegalArgumentException("unknown option: " + args[i]);
            }
        }
        if (options.device == null || options.listen == null || options.peer == null) {
            throw new IllegalArgumentException("--device, --listen and --peer are required");
        }
        if (options.listen.getAddress().getClass() != options.peer.getAddress().getClass()) {
            throw new IllegalArgumentException("--listen and --peer must be of one family");
        }
        return options;
    }

    /** The largest UDP payload that crosses the link unfragmented: the MTU less the IP and UDP headers. */
    int datagramBytes() {
        int headers = (peer.getAddress().getAddress().length == 4 ? 20 : 40) + 8;
        return Math.min(linkMtu - headers, ChunkSplitter.MAX_UDP_PAYLOAD);
    }

    private static String deviceName(String text) {
        if (text.isEmpty() || text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 15 || text.contains("/")) {
            throw new IllegalArgumentException("--device: a name of 1 to 15 bytes without '/': " + text);
        }
        return text;
    }

    private static InetSocketAddress socketAddress(String option, String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(option + ": IP:PORT expected: " + text);
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(host);
        if (bytes == null) {
            throw new IllegalArgumentException(option + ": not an IP address literal: " + host);
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(bytes), number(option, text.substring(colon + 1), 1, 65535));
        } catch (UnknownHostException e) {
            throw new AssertionError("a literal of 4 or 16 bytes", e);
        }
    }

    private static int number(String option, String text, int min, int max) {
        try {
            int n = Integer.parseInt(text);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // said below
        }
        throw new IllegalArgumentException(option + ": a number from " + min + " to " + max + " expected: " + text);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }
}
