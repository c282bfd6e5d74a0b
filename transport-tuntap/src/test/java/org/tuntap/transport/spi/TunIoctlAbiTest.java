package org.tuntap.transport.spi;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The request numbers in {@link TunIoctl} are {@code <linux/if_tun.h>}'s definitions, encoded
 * with {@code <asm-generic/ioctl.h>}, which both x86_64 and arm64 use (2 direction bits, 14 size
 * bits, 8 type bits, 8 number bits; write = 1, read = 2). Architectures with their own encoding
 * (powerpc, mips, sparc, alpha) are refused by {@code LinuxTun}.
 */
class TunIoctlAbiTest {
    private static final int IOC_WRITE = 1;
    private static final int IOC_READ = 2;
    private static final int SIZEOF_INT = 4;

    /** {@code _IOC(dir, type, nr, size)} of asm-generic/ioctl.h. */
    private static long ioc(int dir, char type, int nr, int size) {
        return ((long) dir << 30) | ((long) size << 16) | ((long) type << 8) | nr;
    }

    private static long iow(char type, int nr, int size) {
        return ioc(IOC_WRITE, type, nr, size);
    }

    private static long ior(char type, int nr, int size) {
        return ioc(IOC_READ, type, nr, size);
    }

    @Test
    void requestNumbersAreIfTunHsDefinitions() {
        // #define TUNSETIFF _IOW('T', 202, int), and so on (linux/if_tun.h).
        assertEquals(iow('T', 202, SIZEOF_INT), TunIoctl.TUNSETIFF);
        assertEquals(iow('T', 203, SIZEOF_INT), TunIoctl.TUNSETPERSIST);
        assertEquals(iow('T', 204, SIZEOF_INT), TunIoctl.TUNSETOWNER);
        assertEquals(iow('T', 206, SIZEOF_INT), TunIoctl.TUNSETGROUP);
        assertEquals(ior('T', 207, SIZEOF_INT), TunIoctl.TUNGETFEATURES);
        assertEquals(iow('T', 208, SIZEOF_INT), TunIoctl.TUNSETOFFLOAD);
        assertEquals(ior('T', 210, SIZEOF_INT), TunIoctl.TUNGETIFF);
        assertEquals(iow('T', 212, SIZEOF_INT), TunIoctl.TUNSETSNDBUF);
        assertEquals(iow('T', 216, SIZEOF_INT), TunIoctl.TUNSETVNETHDRSZ);
        assertEquals(iow('T', 217, SIZEOF_INT), TunIoctl.TUNSETQUEUE);
    }

    @Test
    void ifreqIsFortyBytesOnBoth64BitAbis() {
        // IFNAMSIZ, then a union whose largest member is struct ifmap: two unsigned longs (8 each
        // on LP64), an unsigned short and three unsigned chars, padded to the longs' alignment.
        int ifmap = 8 + 8 + 2 + 1 + 1 + 1;
        int ifmapPadded = (ifmap + 7) / 8 * 8;
        assertEquals(16, Ifreq.NAME_SIZE);
        assertEquals(Ifreq.NAME_SIZE + ifmapPadded, Ifreq.SIZE);
        assertEquals(Ifreq.NAME_SIZE, Ifreq.FLAGS_OFFSET);
    }
}
