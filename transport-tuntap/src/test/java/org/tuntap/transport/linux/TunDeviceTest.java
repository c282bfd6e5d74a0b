package org.tuntap.transport.linux;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.transport.spi.TunIoctl.IFF_MULTI_QUEUE;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TAP;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN_EXCL;

/** Opening and attaching real TUN/TAP devices through the FFM layer, checked against the kernel's own view. */
@Tag("netns")
class TunDeviceTest {

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
        LinuxTun.ensureAvailability();
    }

    @ParameterizedTest(name = "{0} flags 0x{1}")
    @CsvSource({
            "tun%d, 0001, tun, none",
            "tun%d, 1001, tun, none",
            "tap%d, 0002, tap, ether",
            "tap%d, 1002, tap, ether",
            "mytun7, 0001, mytun7, none",
            "mytap7, 1002, mytap7, ether",
    })
    void attachesWithTheKernelWritingTheNameBack(String requested, String hexFlags, String namePrefix,
                                                 String linkType) throws Exception {
        int flags = Integer.parseInt(hexFlags, 16);
        try (TunFd tun = TunFd.attach(requested, flags)) {
            if (requested.contains("%d")) {
                assertTrue(tun.name.matches(namePrefix + "\\d+"), tun.name);
            } else {
                assertEquals(requested, tun.name);
            }
            // The kernel's own account of the device: ip's link details, then TUNGETIFF.
            String link = Commands.ip("-d", "-j", "link", "show", "dev", tun.name);
            assertTrue(link.contains("\"link_type\":\"" + linkType + "\""), link);
            assertTrue(link.contains("\"type\":\"" + ((flags & IFF_TAP) != 0 ? "tap" : "tun") + "\""), link);
            assertTrue(link.contains("\"pi\":" + ((flags & IFF_NO_PI) == 0)), link);
            assertEquals(tun.name, TunFdControl.name(tun.io, tun.fd));
            // TUNGETIFF: 0x1000 there means IFF_NOFILTER, so only the mode is compared.
            assertEquals(flags & (IFF_TUN | IFF_TAP), TunFdControl.flags(tun.io, tun.fd) & (IFF_TUN | IFF_TAP));
        }
    }

    @Test
    void closingTheLastFdRemovesADeviceThatIsNotPersistent() throws Exception {
        String name;
        try (TunFd tun = TunFd.attach("gone%d", IFF_TUN)) {
            name = tun.name;
            assertTrue(Commands.linkExists(name));
        }
        assertFalse(Commands.linkExists(name), name + " still exists");
    }

    @Test
    void featuresIncludeTheFlagsThisProjectUses() throws Exception {
        TunIoSystem io = LinuxTun.ioSystem();
        int fd = io.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        try {
            int features = TunFdControl.features(io, fd);
            int expected = IFF_TUN | IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
            assertEquals(expected, features & expected, "features 0x" + Integer.toHexString(features));
            assertEquals(0, features & 0x0004, "bit 0x4 is no TUN feature");
        } finally {
            io.close(fd);
        }
    }

    @Test
    void multiQueueDeviceTakesTwoFds() throws Exception {
        try (TunFd first = TunFd.attach("mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
             TunFd second = TunFd.attach("mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)) {
            assertEquals("mq0", first.name);
            assertEquals("mq0", second.name);
            assertTrue(first.fd != second.fd);
            assertEquals(IFF_MULTI_QUEUE, TunFdControl.flags(second.io, second.fd) & IFF_MULTI_QUEUE);
            String link = Commands.ip("-d", "-j", "link", "show", "dev", "mq0");
            assertTrue(link.contains("\"multi_queue\":true,\"numqueues\":2"), link);
            ErrnoException singleQueue = assertThrows(ErrnoException.class, () -> TunFd.attach("mq0", IFF_TUN | IFF_NO_PI));
            assertEquals(Errno.EINVAL, singleQueue.errno(), singleQueue.getMessage());
        }
    }

    @Test
    void invalidNameIsRefusedClearly() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> TunFd.attach("bad/name", IFF_TUN));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals("ioctl(TUNSETIFF)", e.operation());
        assertTrue(e.getMessage().contains("EINVAL") && e.getMessage().contains("'bad/name'"), e.getMessage());
    }

    @Test
    void exclusiveAttachToAnExistingDeviceIsBusy() throws Exception {
        try (TunFd holder = TunFd.attach("excl0", IFF_TUN)) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> TunFd.attach("excl0", IFF_TUN | IFF_TUN_EXCL));
            assertEquals(Errno.EBUSY, e.errno());
            assertTrue(e.getMessage().contains("EBUSY") && e.getMessage().contains("IFF_TUN_EXCL"), e.getMessage());
            assertEquals(holder.name, TunFdControl.name(holder.io, holder.fd), "the holder keeps its device");
        }
    }

    @Test
    void unsupportedFlagsAreRefusedClearly() throws Exception {
        // IFF_NAPI_FRAGS (0x20) is for TAP devices with IFF_NAPI only.
        ErrnoException fragsOnTun = assertThrows(ErrnoException.class, () -> TunFd.attach("odd0", IFF_TUN | 0x0020));
        assertEquals(Errno.EINVAL, fragsOnTun.errno());
        assertTrue(fragsOnTun.getMessage().contains("flag"), fragsOnTun.getMessage());
        ErrnoException noMode = assertThrows(ErrnoException.class, () -> TunFd.attach("odd1", IFF_NO_PI));
        assertEquals(Errno.EINVAL, noMode.errno());
        assertFalse(Commands.linkExists("odd0") || Commands.linkExists("odd1"));
    }

    @Test
    void kernelIgnoresUnknownFlagBits() throws Exception {
        // Recorded behaviour: bits outside the feature set are dropped, not refused, so a
        // caller that needs a feature must check TUNGETFEATURES itself.
        try (TunFd tun = TunFd.attach("odd2", IFF_TUN | 0x0004)) {
            assertEquals(0, TunFdControl.flags(tun.io, tun.fd) & 0x0004);
        }
    }

    @Test
    void persistentDeviceOutlivesItsFdUntilPersistenceIsCleared() throws Exception {
        try (TunFd tun = TunFd.attach("keep0", IFF_TUN)) {
            TunFdControl.setPersistent(tun.io, tun.fd, true);
        }
        assertTrue(Commands.ip("-d", "-j", "link", "show", "dev", "keep0").contains("\"persist\":true"),
                "persistent device was removed");
        try (TunFd again = TunFd.attach("keep0", IFF_TUN)) {
            TunFdControl.setPersistent(again.io, again.fd, false);
        }
        assertFalse(Commands.linkExists("keep0"), "device still there after clearing persistence");
    }

    @Test
    void ownerAndGroupAreWhatSysfsReports() throws Exception {
        try (TunFd tun = TunFd.attach("owned0", IFF_TAP)) {
            TunFdControl.setOwner(tun.io, tun.fd, 4242);
            TunFdControl.setGroup(tun.io, tun.fd, 4343);
            String link = Commands.ip("-d", "-j", "link", "show", "dev", "owned0");
            assertTrue(link.contains("\"user\":4242,\"group\":4343"), link);
        }
    }

    @Test
    void missingDeviceFileIsReportedWithTheFix() {
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> LinuxTun.ioSystem().open("/dev/net/no-such-tun", OpenFlags.TUN_PORT));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("modprobe tun"), e.getMessage());
    }
}
