package org.tuntap.examples;

import org.tuntap.transport.TunMode;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** The echo's command line. */
final class EchoOptions {
    static final String USAGE = String.join("\n",
            "usage: udp-echo [memory] [--mode tun|tap] [--pi] [--pcap FILE]",
            "       udp-echo native [--name NAME] [--mode tun|tap] [--pi] [--address A.B.C.D/PREFIX]",
            "                       [--echo-address A.B.C.D] [--mtu BYTES] [--seconds N] [--pcap FILE] [--raw]",
            "",
            "memory (default): an in-memory tunnel; a client sends a few datagrams into it as the",
            "  kernel would, the echo answers, the exchange is printed. No privileges needed.",
            "native: a real device (Linux, JDK 22+, CAP_NET_ADMIN, --enable-native-access=ALL-UNNAMED).",
            "  --name      device name or template (default tun%d / tap%d); an existing persistent",
            "              device of that name is attached to",
            "  --address   give the device this address and bring it up (default 198.51.100.1/24;",
            "              'none' leaves the device as it is)",
            "  --echo-address  the address the echo answers ARP for in TAP mode (default: the",
            "              device address + 1); in TUN mode every routed address is echoed",
            "  --mtu       device MTU (default 1500)",
            "  --seconds   stop after N seconds (default: run until Ctrl-C)",
            "  --pcap      capture the device's packets, both directions, to FILE (pcap, for Wireshark)",
            "  --raw       echo without the codecs: swap addresses and ports in place (TUN without",
            "              packet information; the native benchmark's transport-only figure)");

    boolean nativeMode;
    TunMode mode = TunMode.TUN;
    boolean packetInfo;
    String name;
    Inet4Address address;
    int prefixLength = 24;
    boolean configureAddress = true;
    Inet4Address echoAddress;
    int mtu = 1500;
    long seconds;
    String pcap;
    boolean raw;

    static EchoOptions parse(String... args) {
        EchoOptions options = new EchoOptions();
        try {
            options.address = (Inet4Address) InetAddress.getByName("198.51.100.1");
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "memory": options.nativeMode = false; break;
                    case "native": options.nativeMode = true; break;
                    case "--mode": options.mode = TunMode.valueOf(value(args, ++i).toUpperCase(java.util.Locale.ROOT)); break;
                    case "--pi": options.packetInfo = true; break;
                    case "--name": options.name = value(args, ++i); break;
                    case "--address": options.parseAddress(value(args, ++i)); break;
                    case "--echo-address": options.echoAddress = ipv4(value(args, ++i)); break;
                    case "--mtu": options.mtu = Integer.parseInt(value(args, ++i)); break;
                    case "--seconds": options.seconds = Long.parseLong(value(args, ++i)); break;
                    case "--pcap": options.pcap = value(args, ++i); break;
                    case "--raw": options.raw = true; break;
                    case "-h": case "--help": throw new IllegalArgumentException("");
                    default: throw new IllegalArgumentException("unknown argument: " + arg);
                }
            }
            if (options.raw && (options.mode != TunMode.TUN || options.packetInfo || options.pcap != null)) {
                throw new IllegalArgumentException("--raw echoes bare IPv4 packets: TUN mode, no --pi, no --pcap");
            }
            if (options.echoAddress == null) {
                byte[] next = options.address.getAddress();
                next[3]++;
                options.echoAddress = (Inet4Address) InetAddress.getByAddress(next);
            }
        } catch (UnknownHostException | ClassCastException | NumberFormatException e) {
            throw new IllegalArgumentException("bad argument: " + e.getMessage(), e);
        }
        return options;
    }

    private void parseAddress(String text) throws UnknownHostException {
        if (text.equals("none")) {
            configureAddress = false;
            return;
        }
        int slash = text.indexOf('/');
        address = ipv4(slash < 0 ? text : text.substring(0, slash));
        prefixLength = slash < 0 ? 24 : Integer.parseInt(text.substring(slash + 1));
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length must be 0 to 32: " + text);
        }
    }

    private static Inet4Address ipv4(String text) throws UnknownHostException {
        InetAddress address = InetAddress.getByName(text);
        if (!(address instanceof Inet4Address)) {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        return (Inet4Address) address;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }
}
