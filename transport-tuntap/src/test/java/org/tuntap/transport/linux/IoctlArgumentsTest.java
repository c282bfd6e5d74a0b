package org.tuntap.transport.linux;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;

/**
 * ioctl arguments at the edges, against the kernel: what the native layer lets through, and the
 * kernel's answers that the in-memory tunnel copies (a 16-byte name is cut to 15; any request but
 * TUNSETIFF on an unattached fd is EBADFD, an unknown one on an attached fd EINVAL).
 */
@Tag("netns")
class IoctlArgumentsTest {
    private final TunIoSystem io = LinuxTun.ioSystem();

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
        LinuxTun.ensureAvailability();
    }

    @Test
    void anArgumentShorterThanAnIfreqIsRefusedBeforeTheKernelSeesIt() throws Exception {
        int fd = io.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        try {
            // Name and flags, but not the rest of the 40 bytes the kernel copies in and out.
            byte[] shortIfreq = Arrays.copyOf(Ifreq.encode("short0", IFF_TUN | IFF_NO_PI), Ifreq.FLAGS_OFFSET + 2);
            ErrnoException e = assertThrows(ErrnoException.class, () -> io.ioctl(fd, TunIoctl.TUNSETIFF, shortIfreq));
            assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains("18 bytes"), e.getMessage());
            assertFalse(Commands.linkExists("short0"), "no device was made from the short argument");

            byte[] features = new byte[Integer.BYTES]; // an int argument is big enough for an int request
            io.ioctl(fd, TunIoctl.TUNGETFEATURES, features);
            assertTrue(features[0] != 0 || features[1] != 0, "TUNGETFEATURES answered");
        } finally {
            io.close(fd);
        }
    }

    @Test
    void theKernelCutsA16ByteNameTo15() throws Exception {
        int fd = io.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        try {
            byte[] ifreq = Ifreq.encode("", IFF_TUN | IFF_NO_PI);
            System.arraycopy("abcdefghijklmnop".getBytes(StandardCharsets.US_ASCII), 0, ifreq, 0, Ifreq.NAME_SIZE);
            io.ioctl(fd, TunIoctl.TUNSETIFF, ifreq);
            assertEquals("abcdefghijklmno", Ifreq.name(ifreq));
            assertTrue(Commands.linkExists("abcdefghijklmno"));
        } finally {
            io.close(fd);
        }
    }

    @Test
    void requestsBeforeTunsetiffAreEbadfdAndUnknownOnesAfterItEinval() throws Exception {
        int fd = io.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        try {
            long unknown = 0x400454ffL;
            assertEquals(Errno.EBADFD, assertThrows(ErrnoException.class,
                    () -> io.ioctl(fd, unknown, new byte[Ifreq.SIZE])).errno());
            assertEquals(Errno.EBADFD, assertThrows(ErrnoException.class,
                    () -> io.ioctl(fd, TunIoctl.TUNSETPERSIST, 1)).errno());
            assertEquals(Errno.EBADFD, assertThrows(ErrnoException.class,
                    () -> io.ioctl(fd, TunIoctl.TUNGETIFF, new byte[Ifreq.SIZE])).errno());

            io.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode("early%d", IFF_TUN | IFF_NO_PI));
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                    () -> io.ioctl(fd, unknown, new byte[Ifreq.SIZE])).errno());
        } finally {
            io.close(fd);
        }
    }
}
