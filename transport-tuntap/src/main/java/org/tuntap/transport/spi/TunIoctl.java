package org.tuntap.transport.spi;

/**
 * The TUN/TAP ABI from {@code <linux/if_tun.h>}: ioctl request numbers (as encoded on x86_64 and
 * arm64) and the {@code TUNSETIFF} flags. Shared by every fd layer so they agree on the bytes.
 */
public final class TunIoctl {
    /** The clone device every TUN port opens. */
    public static final String DEVICE_PATH = "/dev/net/tun";

    // ioctl requests: pointer arguments (see TunIoSystem#ioctl(int, long, byte[]))
    /** Attaches the fd to a device, creating it if needed: a {@link Ifreq} with name and flags, the kernel's name written back. */
    public static final long TUNSETIFF = 0x400454caL;
    /** Reads the {@code IFF_*} flags this kernel supports into a 4-byte native-endian int. */
    public static final long TUNGETFEATURES = 0x800454cfL;
    /** Reads the attached device's name and flags into a {@link Ifreq}. */
    public static final long TUNGETIFF = 0x800454d2L;
    /** Sets the device's send buffer (a 4-byte native-endian int, bytes). */
    public static final long TUNSETSNDBUF = 0x400454d4L;
    /** Sets the virtio-net header size (a 4-byte native-endian int). */
    public static final long TUNSETVNETHDRSZ = 0x400454d8L;
    /** Attaches or detaches a multi-queue fd: a {@link Ifreq} with {@link #IFF_ATTACH_QUEUE} or {@link #IFF_DETACH_QUEUE}. */
    public static final long TUNSETQUEUE = 0x400454d9L;
    // ioctl requests: value arguments (see TunIoSystem#ioctl(int, long, long))
    /** Makes the device persistent (value 1) or not (0): a persistent device outlives its fds. */
    public static final long TUNSETPERSIST = 0x400454cbL;
    /** Sets the uid allowed to attach to the device (value: the uid). */
    public static final long TUNSETOWNER = 0x400454ccL;
    /** Sets the gid allowed to attach to the device (value: the gid). */
    public static final long TUNSETGROUP = 0x400454ceL;
    /** Sets the offloads ({@code TUN_F_*}) the reader handles (value: the flags). */
    public static final long TUNSETOFFLOAD = 0x400454d0L;

    // TUNSETIFF flags
    /** A TUN device: IP packets. */
    public static final int IFF_TUN = 0x0001;
    /** A TAP device: Ethernet frames. */
    public static final int IFF_TAP = 0x0002;
    /** Deliver written packets through NAPI. */
    public static final int IFF_NAPI = 0x0010;
    /** A multi-queue device: each fd attached to the name is one queue. */
    public static final int IFF_MULTI_QUEUE = 0x0100;
    /** {@link #TUNSETQUEUE}: attach this fd's queue again. */
    public static final int IFF_ATTACH_QUEUE = 0x0200;
    /** {@link #TUNSETQUEUE}: detach this fd's queue. */
    public static final int IFF_DETACH_QUEUE = 0x0400;
    /** No 4-byte packet-information header before each packet. */
    public static final int IFF_NO_PI = 0x1000;
    /** A virtio-net header before each packet. */
    public static final int IFF_VNET_HDR = 0x4000;
    /** Fail with {@link Errno#EBUSY} if the device already exists. */
    public static final int IFF_TUN_EXCL = 0x8000;

    /** The PI header's flag for a packet that did not fit the read buffer. */
    public static final int TUN_PKT_STRIP = 0x0001;
    /** Bytes in {@code struct tun_pi}. */
    public static final int PI_HEADER_LENGTH = 4;
    /** Bytes in {@code struct virtio_net_hdr}, the size the channel sets with {@link #TUNSETVNETHDRSZ}. */
    public static final int VNET_HDR_LENGTH = 10;

    // TUNSETOFFLOAD flags: what the reader handles, so what the kernel may hand it
    /** The reader completes partial checksums ({@code NEEDS_CSUM}); TSO and USO need it. */
    public static final int TUN_F_CSUM = 0x01;
    /** The reader takes IPv4 TCP super-packets. */
    public static final int TUN_F_TSO4 = 0x02;
    /** The reader takes IPv6 TCP super-packets. */
    public static final int TUN_F_TSO6 = 0x04;
    /** The reader takes TCP super-packets with ECN's CWR set (needs TSO4 or TSO6). */
    public static final int TUN_F_TSO_ECN = 0x08;
    /** The reader takes IPv4 UDP super-packets (Linux 6.2+; only together with {@link #TUN_F_USO6}). */
    public static final int TUN_F_USO4 = 0x20;
    /** The reader takes IPv6 UDP super-packets (Linux 6.2+; only together with {@link #TUN_F_USO4}). */
    public static final int TUN_F_USO6 = 0x40;

    private TunIoctl() {
    }

    /**
     * The bytes the kernel reads or writes through a pointer request's argument:
     * {@link Ifreq#SIZE} for {@code TUNSETIFF}, {@code TUNGETIFF} and {@code TUNSETQUEUE} (a
     * {@code struct ifreq}), 4 for the {@code int} ones, or -1 for a request not listed here.
     * (The request numbers cannot tell: if_tun.h encodes them all with the size of an int.)
     */
    public static int argumentSize(long request) {
        if (request == TUNSETIFF || request == TUNGETIFF || request == TUNSETQUEUE) {
            return Ifreq.SIZE;
        }
        if (request == TUNGETFEATURES || request == TUNSETSNDBUF || request == TUNSETVNETHDRSZ) {
            return Integer.BYTES;
        }
        return -1;
    }

    /** A request's name for messages, such as {@code "TUNSETIFF"}. */
    public static String requestName(long request) {
        if (request == TUNSETIFF) return "TUNSETIFF";
        if (request == TUNGETFEATURES) return "TUNGETFEATURES";
        if (request == TUNGETIFF) return "TUNGETIFF";
        if (request == TUNSETSNDBUF) return "TUNSETSNDBUF";
        if (request == TUNSETVNETHDRSZ) return "TUNSETVNETHDRSZ";
        if (request == TUNSETQUEUE) return "TUNSETQUEUE";
        if (request == TUNSETPERSIST) return "TUNSETPERSIST";
        if (request == TUNSETOWNER) return "TUNSETOWNER";
        if (request == TUNSETGROUP) return "TUNSETGROUP";
        if (request == TUNSETOFFLOAD) return "TUNSETOFFLOAD";
        return "0x" + Long.toHexString(request);
    }
}
