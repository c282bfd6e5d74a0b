package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.Tunnels.TUN;

class MemoryIoSystemTest {

    private final MemoryIoSystem system = new MemoryIoSystem();

    private static void assertErrno(int errno, ErrnoException e) {
        assertEquals(Errno.name(errno), Errno.name(e.errno()), e.getMessage());
    }

    @Test
    void fileDescriptorsCountUpFrom8192AndAreNeverReused() throws ErrnoException {
        int first = system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR);
        int second = system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR);
        assertEquals(8192, first);
        assertEquals(8193, second);
        system.close(first);
        assertEquals(8194, system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR));
        assertFalse(system.isOpen(first));
        assertTrue(system.isOpen(second));
    }

    @Test
    void fileDescriptorsArePerSystem() throws ErrnoException {
        system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR);
        assertEquals(MemoryIoSystem.FIRST_FD, new MemoryIoSystem().open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR));
    }

    @Test
    void openFlagsDecideBlockingAndCloseOnExec() throws ErrnoException {
        Tunnel port = system.tunnel(system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT));
        assertEquals(OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC, port.openFlags());
        assertFalse(port.blocking());
        assertTrue(port.closeOnExec());

        Tunnel plain = system.tunnel(system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR));
        assertTrue(plain.blocking());
        assertFalse(plain.closeOnExec());

        Tunnel nonBlockingOnly = system.tunnel(system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_NONBLOCK));
        assertFalse(nonBlockingOnly.blocking());
        assertFalse(nonBlockingOnly.closeOnExec());
    }

    @Test
    void flagValuesAreTwisteds() {
        assertEquals(1, OpenFlags.O_RDWR);
        assertEquals(2, OpenFlags.O_NONBLOCK);
        assertEquals(4, OpenFlags.O_CLOEXEC);
    }

    @Test
    void permissionsStartWithOpenAndIoctl() {
        assertEquals(Set.of("open", "ioctl"), Set.copyOf(system.permissions()));
    }

    @Test
    void openWithoutPermissionFailsWithEpermBeforeLookingAtThePath() {
        system.permissions().remove("open");
        assertErrno(Errno.EPERM, assertThrows(ErrnoException.class,
                () -> system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT)));
        assertErrno(Errno.EPERM, assertThrows(ErrnoException.class,
                () -> system.open("/dev/nothing", OpenFlags.TUN_PORT)));
        assertTrue(system.tunnels().isEmpty(), "a refused open opens nothing");
    }

    @Test
    void permissionsCanBeGivenBack() throws ErrnoException {
        system.permissions().remove("open");
        system.permissions().add("open");
        assertEquals(MemoryIoSystem.FIRST_FD, system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT));
    }

    @Test
    void ioctlWithoutPermissionFailsWithEpermBeforeCheckingTheFdOrRequest() throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        system.permissions().remove("ioctl");
        assertErrno(Errno.EPERM, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode("tun%d", TUN))));
        assertErrno(Errno.EPERM, assertThrows(ErrnoException.class,
                () -> system.ioctl(12345, 0xDEADBEEFL, new byte[3])));
        assertErrno(Errno.EPERM, assertThrows(ErrnoException.class,
                () -> system.ioctl(12345, TunIoctl.TUNSETPERSIST, 1L)));
        assertFalse(system.tunnel(fd).isAttached(), "a refused ioctl changes nothing");
    }

    @Test
    void openOfAnUnknownPathFailsWithEnosys() {
        assertErrno(Errno.ENOSYS, assertThrows(ErrnoException.class,
                () -> system.open("/dev/net/tap", OpenFlags.TUN_PORT)));
    }

    @Test
    void aSystemWithoutDevicesHasNoTunnelDeviceUntilRegistered() throws ErrnoException {
        MemoryIoSystem bare = MemoryIoSystem.withoutDevices();
        assertErrno(Errno.ENOSYS, assertThrows(ErrnoException.class,
                () -> bare.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT)));
        bare.registerSpecialDevice(TunIoctl.DEVICE_PATH, Tunnel::new);
        int fd = bare.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        assertEquals(MemoryIoSystem.FIRST_FD, fd);
        assertFalse(bare.tunnel(fd).blocking());
    }

    @Test
    void registeredDevicesAreOpenedByExactPath() throws ErrnoException {
        int[] opened = new int[1];
        system.registerSpecialDevice("/dev/custom", (owner, flags) -> {
            assertSame(system, owner);
            opened[0] = flags;
            return new Tunnel(owner, flags);
        });
        int fd = system.open("/dev/custom", OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC);
        assertEquals(OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC, opened[0]);
        assertTrue(system.tunnel(fd).closeOnExec());
        assertErrno(Errno.ENOSYS, assertThrows(ErrnoException.class,
                () -> system.open("/dev/custom/", OpenFlags.O_RDWR)));
    }

    @Test
    void operationsOnAClosedFdFailWithEbadf() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        system.close(fd);
        ByteBuf buffer = Unpooled.buffer(64);
        ByteBuf packet = Unpooled.wrappedBuffer(Tunnels.ipv4(20));
        try {
            assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.read(fd, buffer, 64)));
            assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.read(fd, 64)));
            assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.write(fd, packet)));
            assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.write(fd, Tunnels.ipv4(20))));
            assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.close(fd)));
            assertErrno(Errno.EBADF, assertThrows(ErrnoException.class,
                    () -> system.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode("tap0", Tunnels.TAP))));
            assertErrno(Errno.EBADF, assertThrows(ErrnoException.class,
                    () -> system.ioctl(fd, TunIoctl.TUNSETPERSIST, 1L)));
        } finally {
            buffer.release();
            packet.release();
        }
    }

    @Test
    void operationsOnAnFdNeverOpenedFailWithEbadf() {
        assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.read(3, 64)));
        assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.write(-1, Tunnels.ipv4(20))));
        assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.close(MemoryIoSystem.FIRST_FD)));
    }

    @Test
    void ioctlChecksTheFdBeforeTheRequest() {
        assertErrno(Errno.EBADF, assertThrows(ErrnoException.class,
                () -> system.ioctl(MemoryIoSystem.FIRST_FD, 0xDEADBEEFL, new byte[3])));
    }

    /**
     * As the kernel answers (IoctlArgumentsTest checks it): EBADFD before TUNSETIFF (TUNGETIFF
     * too: no device yet), EINVAL after for requests not modelled.
     */
    @Test
    void ioctlRequestsOtherThanTunsetiffAndTungetiffFailWithEbadfdBeforeAttachingAndEinvalAfter() throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        assertErrno(Errno.EBADFD, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, 0xDEADBEEFL, "garbage".getBytes())));
        assertErrno(Errno.EBADFD, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNGETIFF, new byte[Ifreq.SIZE])));
        assertErrno(Errno.EBADFD, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETPERSIST, 1L)));
        assertFalse(system.tunnel(fd).isAttached());

        system.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode("tun%d", TUN));
        assertErrno(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, 0xDEADBEEFL, "garbage".getBytes())));
        assertErrno(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.tunnel(fd).ioctl(0xDEADBEEFL, new byte[Ifreq.SIZE])));
        assertErrno(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETQUEUE, new byte[Ifreq.SIZE])));
    }

    @Test
    void tungetiffAnswersTheNameModeAndFeaturesAsTheKernelDoes() throws ErrnoException {
        int tun = Tunnels.open(system, "tun%d", TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI);
        int tap = Tunnels.open(system, "tap7", TunIoctl.IFF_TAP | TunIoctl.IFF_MULTI_QUEUE);
        byte[] ifreq = new byte[Ifreq.SIZE];
        system.ioctl(tun, TunIoctl.TUNGETIFF, ifreq);
        assertEquals("tun0", Ifreq.name(ifreq));
        assertEquals(TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI, Ifreq.flags(ifreq));
        system.ioctl(tap, TunIoctl.TUNGETIFF, ifreq);
        assertEquals("tap7", Ifreq.name(ifreq));
        // PI on, yet 0x1000 is set: the kernel's IFF_NOFILTER (no socket filter), IFF_NO_PI's bit.
        assertEquals(TunIoctl.IFF_TAP | TunIoctl.IFF_MULTI_QUEUE | 0x1000, Ifreq.flags(ifreq));
        assertErrno(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.ioctl(tun, TunIoctl.TUNGETIFF, new byte[Ifreq.SIZE - 1])));
    }

    @Test
    void addFlagsMakesAnFdNonBlockingAndCloseOnExec() throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR);
        Tunnel tunnel = system.tunnel(fd);
        assertTrue(tunnel.blocking());
        assertFalse(tunnel.closeOnExec());
        system.addFlags(fd, OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC);
        assertFalse(tunnel.blocking());
        assertTrue(tunnel.closeOnExec());
        system.close(fd);
        assertErrno(Errno.EBADF, assertThrows(ErrnoException.class, () -> system.addFlags(fd, OpenFlags.O_NONBLOCK)));
    }

    @Test
    void valueIoctlsOtherThanTunsetoffloadFailWithEinvalAfterThePermissionAndFdChecks() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        assertErrno(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETPERSIST, 1L)));
        assertErrno(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETOWNER, 0L)));
        assertErrno(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETIFF, 0L)));
    }

    @Test
    void tunnelsListsOpenTunnelsInOpenOrder() throws ErrnoException {
        int a = Tunnels.open(system, "tun%d", TUN);
        int b = Tunnels.open(system, "tap%d", Tunnels.TAP);
        int c = system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        assertEquals(List.of(system.tunnel(a), system.tunnel(b), system.tunnel(c)), system.tunnels());
        system.close(b);
        assertEquals(List.of(system.tunnel(a), system.tunnel(c)), system.tunnels());
    }

    @Test
    void getTunnelFindsTheTunnelBehindAnFd() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        Tunnel tunnel = system.getTunnel(fd);
        assertSame(system.tunnel(fd), tunnel);
        assertEquals("tun0", tunnel.name());
        assertSame(tunnel, system.pollable(fd));
        system.close(fd);
        assertThrows(IllegalArgumentException.class, () -> system.getTunnel(fd));
        assertThrows(IllegalArgumentException.class, () -> system.pollable(fd));
        assertTrue(tunnel.isClosed());
    }

    @Test
    void readinessIsOneObjectPerSystem() {
        assertSame(system.readiness(), system.readiness());
        assertTrue(system.readiness() instanceof MemoryReadiness);
    }

    @Test
    void readAndWriteGoThroughTheSpi() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        Tunnel tunnel = system.tunnel(fd);
        byte[] incoming = Tunnels.ipv4(28);
        tunnel.addToReadBuffer(incoming);
        ByteBuf destination = Unpooled.buffer(100);
        ByteBuf outgoing = Unpooled.wrappedBuffer(Tunnels.ipv6(40));
        try {
            destination.writeByte(0x7F);
            assertEquals(28, system.read(fd, destination, 64));
            assertEquals(29, destination.writerIndex(), "bytes go after what the buffer held");
            assertEquals(0x7F, destination.readByte());
            byte[] read = new byte[28];
            destination.readBytes(read);
            assertArrayEquals(incoming, read);

            assertEquals(40, system.write(fd, outgoing));
            assertEquals(0, outgoing.readerIndex(), "write leaves indexes alone");
            assertArrayEquals(Tunnels.ipv6(40), tunnel.takeWritten());
        } finally {
            destination.release();
            outgoing.release();
        }
        tunnel.addToReadBuffer(incoming);
        assertArrayEquals(incoming, system.read(fd, 1500));
        assertEquals(20, system.write(fd, Tunnels.ipv4(20)));
        assertArrayEquals(Tunnels.ipv4(20), tunnel.takeWritten());
    }
}
