package org.tuntap.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.Tunnels.TAP;
import static org.tuntap.testkit.Tunnels.TUN;

/** TUNSETIFF on the in-memory tunnel: the kernel's naming and argument checks. */
class TunnelNamingTest {

    private final MemoryIoSystem system = new MemoryIoSystem();

    private int openFd() throws ErrnoException {
        return system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
    }

    /** Runs TUNSETIFF and returns the name written back into the argument. */
    private String setIff(int fd, String name, int flags) throws ErrnoException {
        byte[] ifreq = Ifreq.encode(name, flags);
        system.ioctl(fd, TunIoctl.TUNSETIFF, ifreq);
        return Ifreq.name(ifreq);
    }

    private ErrnoException setIffFails(int errno, int fd, byte[] ifreq) {
        ErrnoException e = assertThrows(ErrnoException.class, () -> system.ioctl(fd, TunIoctl.TUNSETIFF, ifreq));
        assertEquals(Errno.name(errno), Errno.name(e.errno()), e.getMessage());
        return e;
    }

    @Test
    void templatesGetTheLowestFreeUnit() throws ErrnoException {
        assertEquals("tun0", setIff(openFd(), "tun%d", TUN));
        assertEquals("tun1", setIff(openFd(), "tun%d", TUN));
        assertEquals("tap0", setIff(openFd(), "tap%d", TAP));
        assertEquals("vpn0x", setIff(openFd(), "vpn%dx", TUN));
        assertEquals("vpn1x", setIff(openFd(), "vpn%dx", TUN));
    }

    @Test
    void aClosedTunnelsNameIsFreeAgainAsInTheKernel() throws ErrnoException {
        int first = openFd();
        assertEquals("tun0", setIff(first, "tun%d", TUN));
        assertEquals("tun1", setIff(openFd(), "tun%d", TUN));
        system.close(first);
        assertEquals("tun0", setIff(openFd(), "tun%d", TUN));
        assertEquals("tun2", setIff(openFd(), "tun%d", TUN));
    }

    @Test
    void templateUnitsSkipExplicitNamesInUse() throws ErrnoException {
        assertEquals("tun0", setIff(openFd(), "tun0", TUN));
        assertEquals("tun1", setIff(openFd(), "tun%d", TUN));
    }

    @Test
    void namingIsPerSystem() throws ErrnoException {
        assertEquals("tun0", setIff(openFd(), "tun%d", TUN));
        MemoryIoSystem other = new MemoryIoSystem();
        byte[] ifreq = Ifreq.encode("tun%d", TUN);
        other.ioctl(other.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT), TunIoctl.TUNSETIFF, ifreq);
        assertEquals("tun0", Ifreq.name(ifreq));
    }

    @Test
    void anEmptyNameIsTunOrTapByMode() throws ErrnoException {
        int tun = openFd();
        assertEquals("tun0", setIff(tun, "", TUN));
        assertEquals("", system.tunnel(tun).requestedName());
        assertEquals("tap0", setIff(openFd(), "", TAP));
        assertEquals("tap1", setIff(openFd(), "", TunIoctl.IFF_TAP));
    }

    @Test
    void explicitNamesAreKeptAndTheTunnelRemembersTheRequest() throws ErrnoException {
        int fd = openFd();
        int flags = TunIoctl.IFF_TAP | TunIoctl.IFF_NO_PI | TunIoctl.IFF_NAPI;
        assertEquals("tap-twistedtest", setIff(fd, "tap-twistedtest", flags));
        Tunnel tunnel = system.tunnel(fd);
        assertTrue(tunnel.isAttached());
        assertEquals("tap-twistedtest", tunnel.name());
        assertEquals("tap-twistedtest", tunnel.requestedName());
        assertEquals(flags, tunnel.tunnelMode());
        assertTrue(tunnel.isTap());
        assertFalse(tunnel.hasPacketInformation());
    }

    @Test
    void templateRequestIsRememberedBesideTheAssignedName() throws ErrnoException {
        int fd = openFd();
        setIff(fd, "tun%d", TunIoctl.IFF_TUN);
        Tunnel tunnel = system.tunnel(fd);
        assertEquals("tun%d", tunnel.requestedName());
        assertEquals("tun0", tunnel.name());
        assertFalse(tunnel.isTap());
        assertTrue(tunnel.hasPacketInformation());
    }

    @Test
    void beforeTunsetiffNothingIsKnown() throws ErrnoException {
        Tunnel tunnel = system.tunnel(openFd());
        assertFalse(tunnel.isAttached());
        assertNull(tunnel.name());
        assertNull(tunnel.requestedName());
        assertEquals(0, tunnel.tunnelMode());
    }

    @Test
    void theAssignedNameOverwritesTheWholeNameField() throws ErrnoException {
        byte[] ifreq = Ifreq.encode("a%d", TUN);
        ifreq[20] = 0x5A; // bytes past the flags are the caller's and stay
        system.ioctl(openFd(), TunIoctl.TUNSETIFF, ifreq);
        byte[] expectedName = new byte[Ifreq.NAME_SIZE];
        expectedName[0] = 'a';
        expectedName[1] = '0';
        assertArrayEquals(expectedName, Arrays.copyOf(ifreq, Ifreq.NAME_SIZE));
        assertEquals(TUN, Ifreq.flags(ifreq));
        assertEquals(0x5A, ifreq[20]);
    }

    @Test
    void fifteenByteNamesAreAccepted() throws ErrnoException {
        assertEquals("abcdefghijklmno", setIff(openFd(), "abcdefghijklmno", TUN));
    }

    /** As the kernel does (IoctlArgumentsTest checks it): the field's last byte becomes the NUL. */
    @Test
    void aSixteenByteNameIsCutToFifteen() throws ErrnoException {
        int fd = openFd();
        byte[] ifreq = Ifreq.encode("", TUN);
        byte[] name = "abcdefghijklmnop".getBytes(StandardCharsets.US_ASCII); // 16 bytes: no room for NUL
        System.arraycopy(name, 0, ifreq, 0, name.length);
        system.ioctl(fd, TunIoctl.TUNSETIFF, ifreq);
        assertEquals("abcdefghijklmno", Ifreq.name(ifreq), "the name written back");
        assertEquals(0, ifreq[15]);
        assertEquals("abcdefghijklmno", system.tunnel(fd).name());
    }

    @Test
    void multiByteNamesAreMeasuredInBytes() throws ErrnoException {
        // 8 characters, 16 bytes of UTF-8: cut to 15 bytes, the last character is broken.
        byte[] ifreq = Ifreq.encode("", TUN);
        byte[] name = "éééééééé".getBytes(StandardCharsets.UTF_8);
        System.arraycopy(name, 0, ifreq, 0, name.length);
        setIffFails(Errno.EINVAL, openFd(), ifreq);
    }

    @Test
    void flagsWithNeitherTunNorTapFailWithEinval() throws ErrnoException {
        int fd = openFd();
        setIffFails(Errno.EINVAL, fd, Ifreq.encode("tun%d", TunIoctl.IFF_NO_PI));
        setIffFails(Errno.EINVAL, fd, Ifreq.encode("tun%d", 0));
        assertFalse(system.tunnel(fd).isAttached());
        assertEquals("tun0", setIff(fd, "tun%d", TUN), "the fd can still be attached");
    }

    @Test
    void tunWinsWhenBothTypeFlagsAreGivenAsInTheKernel() throws ErrnoException {
        int fd = openFd();
        assertEquals("tun0", setIff(fd, "", TunIoctl.IFF_TUN | TunIoctl.IFF_TAP));
        assertFalse(system.tunnel(fd).isTap());
    }

    @Test
    void shortArgumentsFailWithEinval() throws ErrnoException {
        int fd = openFd();
        byte[] full = Ifreq.encode("tun%d", TUN);
        setIffFails(Errno.EINVAL, fd, Arrays.copyOf(full, Ifreq.SIZE - 1));
        setIffFails(Errno.EINVAL, fd, Arrays.copyOf(full, 18));
        setIffFails(Errno.EINVAL, fd, new byte[0]);
        setIffFails(Errno.EINVAL, fd, null);
        assertFalse(system.tunnel(fd).isAttached());
    }

    @ParameterizedTest
    @ValueSource(strings = {".", "..", "a/b", "a:b", "a b", "tab\tx", "tun%s", "tun%", "t%d%d", "%d%x"})
    void namesTheKernelRefusesFailWithEinval(String name) throws ErrnoException {
        int fd = openFd();
        setIffFails(Errno.EINVAL, fd, Ifreq.encode(name, TUN));
        assertFalse(system.tunnel(fd).isAttached());
    }

    @Test
    void aSecondTunsetiffOnOneFdFailsWithEexist() throws ErrnoException {
        int fd = openFd();
        setIff(fd, "tun%d", TUN);
        setIffFails(Errno.EEXIST, fd, Ifreq.encode("tap%d", TAP));
        assertEquals("tun0", system.tunnel(fd).name());
        assertEquals(TUN, system.tunnel(fd).tunnelMode());
    }

    @Test
    void anExplicitNameInUseFailsWithEbusy() throws ErrnoException {
        setIff(openFd(), "tun7", TUN);
        int fd = openFd();
        setIffFails(Errno.EBUSY, fd, Ifreq.encode("tun7", TUN));
        assertFalse(system.tunnel(fd).isAttached());
    }

    @Test
    void aTemplateWithNoRoomLeftFailsWithEnfile() throws ErrnoException {
        // "abcdefghijklm%d" makes 14-byte names for units 0-9 and 15-byte ones for 10-99.
        for (int unit = 0; unit < 100; unit++) {
            setIff(openFd(), "abcdefghijklm%d", TUN);
        }
        assertEquals("abcdefghijklm99", system.tunnels().get(99).name());
        setIffFails(Errno.ENFILE, openFd(), Ifreq.encode("abcdefghijklm%d", TUN));
    }

    @Test
    void virtioHeadersAreAcceptedWithTheKernelsDefaultSize() throws ErrnoException {
        int fd = openFd();
        setIff(fd, "tun%d", TUN | TunIoctl.IFF_VNET_HDR);
        assertTrue(system.tunnel(fd).hasVnetHeader());
        assertEquals(10, system.tunnel(fd).vnetHeaderSize());
    }

    @Test
    void multiQueueTunnelsShareOneNameAsQueuesOfOneDevice() throws ErrnoException {
        int mq = TUN | TunIoctl.IFF_MULTI_QUEUE;
        int first = openFd();
        int second = openFd();
        assertEquals("mq0", setIff(first, "mq0", mq));
        assertEquals("mq0", setIff(second, "mq0", mq));
        assertEquals("mq0", system.tunnel(second).name());
        system.tunnel(first).addToReadBuffer(Tunnels.ipv4(20));
        assertEquals(0, system.tunnel(second).readBufferSize(), "each queue has its own packets");
        assertEquals("mq1", setIff(openFd(), "mq%d", mq), "a template still makes a new device");
    }

    @Test
    void aNewQueuesFeaturesApplyToTheWholeDeviceAsInTheKernel() throws ErrnoException {
        int first = openFd();
        setIff(first, "mq0", TunIoctl.IFF_TUN | TunIoctl.IFF_MULTI_QUEUE);
        assertTrue(system.tunnel(first).hasPacketInformation());
        setIff(openFd(), "mq0", TunIoctl.IFF_TUN | TunIoctl.IFF_MULTI_QUEUE | TunIoctl.IFF_NO_PI);
        assertFalse(system.tunnel(first).hasPacketInformation());
        assertEquals(TunIoctl.IFF_TUN | TunIoctl.IFF_MULTI_QUEUE | TunIoctl.IFF_NO_PI, system.tunnel(first).tunnelMode());
    }

    @Test
    void joiningAnExistingDeviceFollowsTheKernelsChecks() throws ErrnoException {
        int mq = TUN | TunIoctl.IFF_MULTI_QUEUE;
        setIff(openFd(), "mq0", mq);
        int fd = openFd();
        setIffFails(Errno.EINVAL, fd, Ifreq.encode("mq0", TUN));
        setIffFails(Errno.EINVAL, fd, Ifreq.encode("mq0", TAP | TunIoctl.IFF_MULTI_QUEUE));
        setIffFails(Errno.EBUSY, fd, Ifreq.encode("mq0", mq | TunIoctl.IFF_TUN_EXCL));
        assertFalse(system.tunnel(fd).isAttached());

        setIff(openFd(), "single", TUN);
        setIffFails(Errno.EINVAL, fd, Ifreq.encode("single", mq));
        setIffFails(Errno.EINVAL, fd, Ifreq.encode("single", TAP));
        assertEquals("fresh", setIff(fd, "fresh", TUN | TunIoctl.IFF_TUN_EXCL), "IFF_TUN_EXCL for a new name is fine");
    }

    @Test
    void aDeviceNameIsFreeOnceItsLastQueueCloses() throws ErrnoException {
        int mq = TUN | TunIoctl.IFF_MULTI_QUEUE;
        int first = openFd();
        int second = openFd();
        setIff(first, "mq0", mq);
        setIff(second, "mq0", mq);
        system.close(first);
        setIffFails(Errno.EINVAL, openFd(), Ifreq.encode("mq0", TUN));
        system.close(second);
        assertEquals("mq0", setIff(openFd(), "mq0", TUN));
    }

    @Test
    void tunsetiffOnAClosedTunnelFailsWithEbadf() throws ErrnoException {
        Tunnel tunnel = system.tunnel(openFd());
        tunnel.close();
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> tunnel.ioctl(TunIoctl.TUNSETIFF, Ifreq.encode("tun%d", TUN)));
        assertEquals(Errno.EBADF, e.errno());
    }
}
