package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.util.List;
import java.util.NoSuchElementException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.Tunnels.TAP;
import static org.tuntap.testkit.Tunnels.TAP_PI;
import static org.tuntap.testkit.Tunnels.TUN;
import static org.tuntap.testkit.Tunnels.TUN_PI;
import static org.tuntap.testkit.Tunnels.concat;
import static org.tuntap.testkit.Tunnels.ipv4;
import static org.tuntap.testkit.Tunnels.ipv6;
import static org.tuntap.testkit.Tunnels.numbered;

/** Writing to the in-memory tunnel: the write buffer, EINTR, ENOBUFS, EINVAL and EAGAIN. */
class TunnelWriteTest {

    private static final byte[] PI_IPV4 = {0, 0, 0x08, 0x00};

    private final MemoryIoSystem system = new MemoryIoSystem();

    private static int writeFails(Tunnel tunnel, byte[] packet) {
        return assertThrows(ErrnoException.class, () -> tunnel.write(packet)).errno();
    }

    @Test
    void aWriteStoresACopyAndReturnsItsLength() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        byte[] packet = ipv4(60);
        assertEquals(60, tunnel.write(packet));
        packet[3] = 42;
        assertEquals(1, tunnel.writeBufferSize());
        assertArrayEquals(ipv4(60), tunnel.takeWritten());
        assertEquals(0, tunnel.writeBufferSize());
    }

    @Test
    void withPiTheHeaderIsStoredAsWritten() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        byte[] packet = concat(PI_IPV4, ipv4(20));
        assertEquals(24, tunnel.write(packet));
        assertArrayEquals(packet, tunnel.takeWritten());
    }

    @Test
    void writtenPacketsAreKeptOldestFirst() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.write(ipv4(20));
        tunnel.write(ipv6(40));
        tunnel.write(ipv4(21));
        List<byte[]> snapshot = tunnel.writeBuffer();
        assertEquals(3, snapshot.size());
        assertEquals(3, tunnel.writeBufferSize(), "a snapshot takes nothing out");
        assertArrayEquals(ipv4(20), tunnel.pollWritten());
        List<byte[]> rest = tunnel.takeAllWritten();
        assertEquals(2, rest.size());
        assertArrayEquals(ipv6(40), rest.get(0));
        assertArrayEquals(ipv4(21), rest.get(1));
        assertNull(tunnel.pollWritten());
        assertNull(tunnel.pollWrittenBuffer());
        assertThrows(NoSuchElementException.class, tunnel::takeWritten);
    }

    @Test
    void pollWrittenBufferHandsOverABufferToRelease() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.write(ipv6(40));
        ByteBuf written = tunnel.pollWrittenBuffer();
        try {
            assertEquals(40, written.readableBytes());
            assertEquals(0x60, written.getUnsignedByte(0));
            assertEquals(39, written.getUnsignedByte(39));
        } finally {
            written.release();
        }
    }

    @Test
    void aPendingSignalFailsTheWriteWithEintrOncePerSignal() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setPendingSignals(2);
        ErrnoException first = assertThrows(ErrnoException.class, () -> tunnel.write(ipv4(20)));
        assertTrue(first.isInterrupted());
        assertEquals(0, first.getStackTrace().length);
        assertEquals(1, tunnel.pendingSignals());
        assertEquals(Errno.EINTR, writeFails(tunnel, ipv4(20)));
        assertEquals(0, tunnel.pendingSignals());
        assertEquals(0, tunnel.writeBufferSize(), "interrupted writes write nothing");
        assertEquals(20, tunnel.write(ipv4(20)), "the retry succeeds");
        assertEquals(1, tunnel.writeBufferSize());
    }

    @Test
    void theSignalIsCheckedBeforeTheSizeAsInTwisted() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setSendBufferSize(Tunnel.TWISTED_SEND_BUFFER_SIZE);
        tunnel.setPendingSignals(1);
        assertEquals(Errno.EINTR, writeFails(tunnel, ipv4(2000)));
        assertEquals(Errno.ENOBUFS, writeFails(tunnel, ipv4(2000)));
    }

    @Test
    void theDefaultSendBufferTakesTheLargestIpDatagram() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        assertEquals(Tunnel.DEFAULT_SEND_BUFFER_SIZE, tunnel.sendBufferSize());
        assertEquals(65_535, tunnel.write(ipv4(65_535)));
        assertEquals(Errno.ENOBUFS, writeFails(tunnel, ipv4(Tunnel.DEFAULT_SEND_BUFFER_SIZE + 1)));
        Tunnel tapPi = Tunnels.attached(system, TAP_PI);
        byte[] largestFrame = concat(PI_IPV4, new byte[14], ipv4(65_535));
        assertEquals(largestFrame.length, tapPi.write(largestFrame));
    }

    @Test
    void writesLargerThanTwistedsSendBufferFailWithEnobufs() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setSendBufferSize(Tunnel.TWISTED_SEND_BUFFER_SIZE);
        assertEquals(1024, tunnel.write(ipv4(1024)));
        ErrnoException e = assertThrows(ErrnoException.class, () -> tunnel.write(ipv4(1025)));
        assertEquals(Errno.ENOBUFS, e.errno());
        assertEquals(1, tunnel.writeBufferSize());
    }

    @Test
    void withoutPiATunPacketMustStartWithIpVersion4Or6() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        assertEquals(Errno.EINVAL, writeFails(tunnel, numbered(20, 0x10)));
        assertEquals(Errno.EINVAL, writeFails(tunnel, numbered(20, 0x55)));
        assertEquals(Errno.EINVAL, writeFails(tunnel, new byte[0]));
        assertEquals(0, tunnel.writeBufferSize());
        assertEquals(1, tunnel.write(new byte[] {0x40}));
        assertEquals(1, tunnel.write(new byte[] {0x6F}));
    }

    @Test
    void withPiATunPacketIsTakenWhateverItsFirstByteAsTheKernelTrustsTheHeader() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        assertEquals(24, tunnel.write(concat(PI_IPV4, numbered(20, 0x10))));
    }

    @Test
    void withPiAWriteShorterThanTheHeaderFailsWithEinval() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        assertEquals(Errno.EINVAL, writeFails(tunnel, new byte[3]));
        assertEquals(Errno.EINVAL, writeFails(tunnel, new byte[0]));
    }

    @Test
    void aTapFrameShorterThanAnEthernetHeaderFailsWithEinval() throws ErrnoException {
        Tunnel tap = Tunnels.attached(system, TAP);
        assertEquals(Errno.EINVAL, writeFails(tap, new byte[13]));
        assertEquals(14, tap.write(new byte[14]));
        Tunnel tapPi = Tunnels.attached(system, TAP_PI);
        assertEquals(Errno.EINVAL, writeFails(tapPi, new byte[4 + 13]));
        assertEquals(18, tapPi.write(new byte[4 + 14]));
    }

    @Test
    void aFullWriteBufferFailsWithAStacklessEagainUntilPacketsAreTakenOut() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        assertEquals(Tunnel.UNBOUNDED, tunnel.writeCapacity());
        tunnel.setWriteCapacity(2);
        tunnel.write(ipv4(20));
        assertTrue(tunnel.isWritable());
        tunnel.write(ipv4(21));
        assertFalse(tunnel.isWritable());
        ErrnoException e = assertThrows(ErrnoException.class, () -> tunnel.write(ipv4(22)));
        assertTrue(e.isWouldBlock());
        assertEquals(0, e.getStackTrace().length);
        assertEquals(2, tunnel.writeBufferSize());

        assertArrayEquals(ipv4(20), tunnel.takeWritten());
        assertTrue(tunnel.isWritable());
        assertEquals(22, tunnel.write(ipv4(22)));
        assertFalse(tunnel.isWritable());
    }

    @Test
    void raisingTheCapacityMakesTheTunnelWritable() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setWriteCapacity(0);
        assertFalse(tunnel.isWritable());
        assertEquals(Errno.EAGAIN, writeFails(tunnel, ipv4(20)));
        tunnel.setWriteCapacity(Tunnel.UNBOUNDED);
        assertTrue(tunnel.isWritable());
        assertEquals(20, tunnel.write(ipv4(20)));
    }

    @Test
    void aBlockingTunnelRefusesToWaitForRoom() throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR);
        system.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode("tun%d", TUN));
        Tunnel tunnel = system.tunnel(fd);
        tunnel.setWriteCapacity(0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> tunnel.write(ipv4(20)));
        assertTrue(e.getMessage().contains("blocking fd would wait forever"), e.getMessage());
    }

    @Test
    void beforeTunsetiffWritesFailWithEbadfd() throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        assertEquals(Errno.EBADFD, assertThrows(ErrnoException.class, () -> system.write(fd, ipv4(20))).errno());
    }

    @Test
    void afterCloseWritesFailWithEbadfAndWrittenPacketsStayForAssertions() throws ErrnoException {
        int fd = Tunnels.open(system, "tap%d", TAP);
        Tunnel tunnel = system.tunnel(fd);
        tunnel.write(new byte[60]);
        system.close(fd);
        assertEquals(Errno.EBADF, writeFails(tunnel, new byte[60]));
        assertArrayEquals(new byte[60], tunnel.takeWritten());
    }

    @Test
    void settersRejectNonsense() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        assertThrows(IllegalArgumentException.class, () -> tunnel.setPendingSignals(-1));
        assertThrows(IllegalArgumentException.class, () -> tunnel.setSendBufferSize(0));
        assertThrows(IllegalArgumentException.class, () -> tunnel.setWriteCapacity(-1));
        assertThrows(IllegalArgumentException.class, () -> tunnel.setEmptyReadError(0));
        assertThrows(NullPointerException.class, () -> tunnel.setEmptyReadError(null));
    }
}
