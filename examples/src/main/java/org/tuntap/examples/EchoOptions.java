package org.tuntap.examples;

import io.netty.util.NetUtil;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunMode;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * The echo's command line. {@link #parse} checks everything that can be checked without the
 * kernel, so that a bad option fails before a device is created; each failure is an
 * {@link IllegalArgumentException} whose message is one line naming the option.
 */
final class EchoOptions {
    static final String USAGE = String.join("\n",
            "usage: udp-echo [memory] [--mode tun|tap] [--pi] [--pcap FILE]",
            "       udp-echo native [--name NAME] [--mode tun|tap] [--pi] [--address A.B.C.D[/PREFIX]|none]",
            "                       [--prefix N] [--echo-address A.B.C.D] [--address6 X:X::X[/PREFIX]|none]",
            "                       [--echo-address6 X:X::X] [--mtu BYTES] [--seconds N] [--pcap FILE] [--raw]",
            "                       [--offload] [--io-uring]",
            "",
            "memory (default): an in-memory tunnel; a client sends a few datagrams into it as the",
            "  kernel would (over IPv4, and over IPv6 in TUN mode), pings it in both families, the",
            "  echo answers, the exchange is printed. No privileges needed.",
            "native: a real device (Linux, JDK 22+, CAP_NET_ADMIN, --enable-native-access=ALL-UNNAMED).",
            "  --name      device name or template, at most 15 bytes (default tun%d / tap%d); an",
            "              existing persistent device of that name is attached to",
            "  --address   give the device this address (a literal) and bring it up (default",
            "              198.51.100.1/24); 'none' attaches to an existing device, named by --name,",
            "              and leaves it as it is",
            "  --prefix    the address's prefix length, 0 to 32 (default 24)",
            "  --echo-address  the address the echo answers ARP for in TAP mode (default: the",
            "              device address + 1); in TUN mode every routed address is echoed",
            "  --address6  also give the device this IPv6 address (a literal; default 2001:db8::1/64,",
            "              a documentation address, in TUN and TAP mode); 'none' adds none",
            "  --echo-address6  the IPv6 address the echo answers for in TAP mode (default: the",
            "              device's IPv6 address + 1, 2001:db8::2); in TUN mode every routed address",
            "              is echoed",
            "  --mtu       device MTU: 68 to 65535 for TUN, to 65521 for TAP (default 1500); at least",
            "              1280 with an IPv6 address, IPv6's minimum",
            "  --seconds   stop after N seconds, N >= 1 (default: run until Ctrl-C or SIGTERM)",
            "  --pcap      capture the device's packets, both directions, to FILE (pcap, for Wireshark)",
            "  --raw       echo without the codecs: swap addresses and ports in place (TUN without",
            "              packet information; the native benchmark's transport-only figure)",
            "  --offload   a virtio-net header on every packet (VNET_HDR) and the kernel's offloads:",
            "              the echoes of one read batch to one peer leave as one USO super-packet",
            "              (Linux 6.2+), one write for up to 64 datagrams (TUN or TAP; no --pi, no --pcap)",
            "  --io-uring  run on Netty's io_uring loop instead of epoll: the echoes of a read batch",
            "              go to the kernel in one io_uring_enter, not one write each",
            "exit status: 0 stopped as asked; 1 the device failed or could not be set up; 2 bad options");

    /** The smallest MTU the kernel gives a TUN/TAP device ({@code MIN_MTU} in drivers/net/tun.c). */
    static final int MIN_MTU = 68;
    /** The largest ({@code MAX_MTU}, less the Ethernet header on a TAP device). */
    static final int MAX_TUN_MTU = 65535;
    static final int MAX_TAP_MTU = 65535 - 14;
    /** The smallest MTU with which the kernel keeps IPv6 on a device (RFC 8200's minimum link MTU). */
    static final int IPV6_MIN_MTU = 1280;

    boolean nativeMode;
    TunMode mode = TunMode.TUN;
    boolean packetInfo;
    String name;
    Inet4Address address = ipv4Literal("--address", "198.51.100.1");
    int prefixLength = 24;
    boolean configureAddress = true;
    Inet4Address echoAddress;
    /** The device's IPv6 address, or null for none ({@code --address6 none}). */
    Inet6Address address6 = ipv6Literal("--address6", "2001:db8::1");
    int prefixLength6 = 64;
    /** Whether {@code --address6} was given (rather than left at its default). */
    private boolean address6Given;
    Inet6Address echoAddress6;
    int mtu;
    private long requestedMtu = 1500;
    /** 0: until stopped. */
    long seconds;
    String pcap;
    boolean raw;
    boolean offload;
    boolean ioUring;
    boolean help;

    static EchoOptions parse(String... args) {
        EchoOptions options = new EchoOptions();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "memory": options.nativeMode = false; break;
                case "native": options.nativeMode = true; break;
                case "--mode": options.mode = mode(value(args, ++i)); break;
                case "--pi": options.packetInfo = true; break;
                case "--name": options.name = deviceName(value(args, ++i)); break;
                case "--address": options.parseAddress(value(args, ++i)); break;
                case "--echo-address": options.echoAddress = ipv4Literal(arg, value(args, ++i)); break;
                case "--address6": options.parseAddress6(value(args, ++i)); break;
                case "--echo-address6": options.echoAddress6 = ipv6Literal(arg, value(args, ++i)); break;
                case "--prefix": options.prefixLength = (int) number(arg, value(args, ++i), 0, 32); break;
                case "--mtu": options.requestedMtu = number(arg, value(args, ++i), Long.MIN_VALUE, Long.MAX_VALUE); break;
                case "--seconds": options.seconds = number(arg, value(args, ++i), 1, Long.MAX_VALUE); break;
                case "--pcap": options.pcap = value(args, ++i); break;
                case "--raw": options.raw = true; break;
                case "--offload": options.offload = true; break;
                case "--io-uring": options.ioUring = true; break;
                case "-h": case "--help": options.help = true; break;
                default: throw new IllegalArgumentException("unknown argument: " + arg);
            }
        }
        options.check();
        return options;
    }

    /** Checks between options, once all are known. */
    private void check() {
        int maxMtu = mode == TunMode.TAP ? MAX_TAP_MTU : MAX_TUN_MTU;
        if (requestedMtu < MIN_MTU || requestedMtu > maxMtu) {
            throw new IllegalArgumentException("--mtu " + requestedMtu + ": the kernel takes " + MIN_MTU + " to "
                    + maxMtu + " on a " + mode + " device");
        }
        mtu = (int) requestedMtu;
        if (!configureAddress && address6Given && address6 != null) {
            throw new IllegalArgumentException("--address none leaves the device as it is: leave --address6 out");
        }
        if (!configureAddress) {
            address6 = null; // attached as it is: no IPv6 address added either
        }
        if (nativeMode && address6 != null && mtu < IPV6_MIN_MTU) {
            throw new IllegalArgumentException("--mtu " + mtu + ": IPv6 needs at least " + IPV6_MIN_MTU
                    + " (or --address6 none)");
        }
        if (raw && (mode != TunMode.TUN || packetInfo || pcap != null)) {
            throw new IllegalArgumentException("--raw echoes bare IPv4 packets: TUN mode, no --pi, no --pcap");
        }
        if (offload && (packetInfo || pcap != null || raw)) {
            throw new IllegalArgumentException("--offload puts a virtio-net header on every packet: "
                    + "no --pi (it would come first), no --pcap, no --raw");
        }
        if (nativeMode && !configureAddress && (name == null || new TunAddress(name).isTemplate())) {
            throw new IllegalArgumentException("--address none attaches to an existing device: name it with --name");
        }
        if (echoAddress == null) {
            byte[] next = address.getAddress();
            next[3]++;
            echoAddress = ipv4(next);
        }
        if (echoAddress6 == null) {
            byte[] next = (address6 != null ? address6 : ipv6Literal("--address6", "2001:db8::1")).getAddress();
            for (int i = next.length - 1; i >= 0 && ++next[i] == 0; i--) {
                // carry into the next byte
            }
            echoAddress6 = ipv6(next);
        }
    }

    private void parseAddress6(String text) {
        address6Given = true;
        if (text.equals("none")) {
            address6 = null;
            return;
        }
        int slash = text.indexOf('/');
        address6 = ipv6Literal("--address6", slash < 0 ? text : text.substring(0, slash));
        if (slash >= 0) {
            prefixLength6 = (int) number("--address6 " + text + ": prefix", text.substring(slash + 1), 0, 128);
        }
        if (address6.isMulticastAddress() || address6.isAnyLocalAddress() || address6.isLoopbackAddress()) {
            throw new IllegalArgumentException("--address6 " + text + ": not a unicast address for a device");
        }
    }

    private void parseAddress(String text) {
        if (text.equals("none")) {
            configureAddress = false;
            return;
        }
        int slash = text.indexOf('/');
        address = ipv4Literal("--address", slash < 0 ? text : text.substring(0, slash));
        if (slash >= 0) {
            prefixLength = (int) number("--address " + text + ": prefix", text.substring(slash + 1), 0, 32);
        }
    }

    private static TunMode mode(String text) {
        switch (text.toLowerCase(Locale.ROOT)) {
            case "tun": return TunMode.TUN;
            case "tap": return TunMode.TAP;
            default: throw new IllegalArgumentException("--mode " + text + ": tun or tap");
        }
    }

    /** The kernel's limits on a name, checked here so that no device is created with a bad one. */
    private static String deviceName(String text) {
        try {
            new TunAddress(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--name: " + e.getMessage());
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException("--name: empty (leave it out for tun%d / tap%d)");
        }
        return text;
    }

    /** An IPv4 address literal; never a host name, which would mean a DNS lookup. */
    private static Inet4Address ipv4Literal(String option, String text) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(text);
        if (bytes == null || bytes.length != 4) {
            throw new IllegalArgumentException(option + " " + text + ": not an IPv4 address (A.B.C.D)");
        }
        return ipv4(bytes);
    }

    /** An IPv6 address literal (no scope, no brackets); never a host name. */
    private static Inet6Address ipv6Literal(String option, String text) {
        byte[] bytes = text.indexOf(':') < 0 || text.indexOf('%') >= 0 ? null : NetUtil.createByteArrayFromIpAddressString(text);
        if (bytes == null || bytes.length != 16) {
            throw new IllegalArgumentException(option + " " + text + ": not an IPv6 address (such as 2001:db8::1)");
        }
        return ipv6(bytes);
    }

    private static Inet6Address ipv6(byte[] bytes) {
        try {
            return Inet6Address.getByAddress(null, bytes, null);
        } catch (UnknownHostException e) {
            throw new AssertionError("sixteen bytes are always an address", e);
        }
    }

    private static Inet4Address ipv4(byte[] bytes) {
        try {
            return (Inet4Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always an address", e);
        }
    }

    private static long number(String option, String text, long min, long max) {
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " " + text + ": not a number");
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " " + text + ": must be " + (max == Long.MAX_VALUE
                    ? "at least " + min : min + " to " + max));
        }
        return value;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }
}
