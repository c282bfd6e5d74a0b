package org.tuntap.examples;

import io.netty.util.NetUtil;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunMode;

import java.net.Inet4Address;
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
            "                       [--prefix N] [--echo-address A.B.C.D] [--mtu BYTES] [--seconds N] [--pcap FILE]",
            "                       [--raw]",
            "",
            "memory (default): an in-memory tunnel; a client sends a few datagrams into it as the",
            "  kernel would, the echo answers, the exchange is printed. No privileges needed.",
            "native: a real device (Linux, JDK 22+, CAP_NET_ADMIN, --enable-native-access=ALL-UNNAMED).",
            "  --name      device name or template, at most 15 bytes (default tun%d / tap%d); an",
            "              existing persistent device of that name is attached to",
            "  --address   give the device this address (a literal) and bring it up (default",
            "              198.51.100.1/24); 'none' attaches to an existing device, named by --name,",
            "              and leaves it as it is",
            "  --prefix    the address's prefix length, 0 to 32 (default 24)",
            "  --echo-address  the address the echo answers ARP for in TAP mode (default: the",
            "              device address + 1); in TUN mode every routed address is echoed",
            "  --mtu       device MTU: 68 to 65535 for TUN, to 65521 for TAP (default 1500)",
            "  --seconds   stop after N seconds, N >= 1 (default: run until Ctrl-C or SIGTERM)",
            "  --pcap      write the datagrams to FILE for Wireshark",
            "  --raw       echo without the codecs: swap addresses and ports in place (TUN without",
            "              packet information; the native benchmark's transport-only figure)",
            "exit status: 0 stopped as asked; 1 the device failed or could not be set up; 2 bad options");

    /** The smallest MTU the kernel gives a TUN/TAP device ({@code MIN_MTU} in drivers/net/tun.c). */
    static final int MIN_MTU = 68;
    /** The largest ({@code MAX_MTU}, less the Ethernet header on a TAP device). */
    static final int MAX_TUN_MTU = 65535;
    static final int MAX_TAP_MTU = 65535 - 14;

    boolean nativeMode;
    TunMode mode = TunMode.TUN;
    boolean packetInfo;
    String name;
    Inet4Address address = ipv4Literal("--address", "198.51.100.1");
    int prefixLength = 24;
    boolean configureAddress = true;
    Inet4Address echoAddress;
    int mtu;
    private long requestedMtu = 1500;
    /** 0: until stopped. */
    long seconds;
    String pcap;
    boolean raw;
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
                case "--prefix": options.prefixLength = (int) number(arg, value(args, ++i), 0, 32); break;
                case "--mtu": options.requestedMtu = number(arg, value(args, ++i), Long.MIN_VALUE, Long.MAX_VALUE); break;
                case "--seconds": options.seconds = number(arg, value(args, ++i), 1, Long.MAX_VALUE); break;
                case "--pcap": options.pcap = value(args, ++i); break;
                case "--raw": options.raw = true; break;
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
        if (raw && (mode != TunMode.TUN || packetInfo || pcap != null)) {
            throw new IllegalArgumentException("--raw echoes bare IPv4 packets: TUN mode, no --pi, no --pcap");
        }
        if (nativeMode && !configureAddress && (name == null || new TunAddress(name).isTemplate())) {
            throw new IllegalArgumentException("--address none attaches to an existing device: name it with --name");
        }
        if (echoAddress == null) {
            byte[] next = address.getAddress();
            next[3]++;
            echoAddress = ipv4(next);
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
