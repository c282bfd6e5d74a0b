package org.tuntap.transport.spi;

/**
 * The TUN/TAP ABI from {@code <linux/if_tun.h>}: ioctl request numbers (as encoded on x86_64 and
 * arm64) and the {@code TUNSETIFF} flags. Shared by every fd layer so they agree on the bytes.
 */
public final class TunIoctl {
    /** The clone device every TUN port opens. */
    public static final String DEVICE_PATH = "/dev/net/tun";

    // ioctl requests: pointer arguments (see TunIoSystem#ioctl(int, long, byte[]))
    public static final long TUNSETIFF = 0x400454caL;
    public static final long TUNGETFEATURES = 0x800454cfL;
    public static final long TUNGETIFF = 0x800454d2L;
    public static final long TUNSETSNDBUF = 0x400454d4L;
    public static final long TUNSETVNETHDRSZ = 0x400454d8L;
    public static final long TUNSETQUEUE = 0x400454d9L;
    // ioctl requests: value arguments (see TunIoSystem#ioctl(int, long, long))
    public static final long TUNSETPERSIST = 0x400454cbL;
    public static final long TUNSETOWNER = 0x400454ccL;
    public static final long TUNSETGROUP = 0x400454ceL;
    public static final long TUNSETOFFLOAD = 0x400454d0L;

    // TUNSETIFF flags
    public static final int IFF_TUN = 0x0001;
    public static final int IFF_TAP = 0x0002;
    public static final int IFF_NAPI = 0x0010;
    public static final int IFF_MULTI_QUEUE = 0x0100;
    public static final int IFF_ATTACH_QUEUE = 0x0200;
    public static final int IFF_DETACH_QUEUE = 0x0400;
    public static final int IFF_NO_PI = 0x1000;
    public static final int IFF_VNET_HDR = 0x4000;
    public static final int IFF_TUN_EXCL = 0x8000;

    /** The PI header's flag for a packet that did not fit the read buffer. */
    public static final int TUN_PKT_STRIP = 0x0001;
    /** Bytes in {@code struct tun_pi}. */
    public static final int PI_HEADER_LENGTH = 4;

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
