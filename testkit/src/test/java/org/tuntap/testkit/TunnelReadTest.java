package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.Tunnels.TAP;
import static org.tuntap.testkit.Tunnels.TAP_PI;
import static org.tuntap.testkit.Tunnels.TUN;
import static org.tuntap.testkit.Tunnels.TUN_PI;
import static org.tuntap.testkit.Tunnels.concat;
import static org.tuntap.testkit.Tunnels.ipv4;
import static org.tuntap.testkit.Tunnels.ipv6;
import static org.tuntap.testkit.Tunnels.slice;

/** Reading from the in-memory tunnel: packets, PI headers, truncation, framing, empty reads. */
class TunnelReadTest {

    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    /** The network side's MAC (00:00:5e:00:53:01, a documentation MAC; Twisted used zeros). */
    private static final byte[] NETWORK_MAC = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01};
    /** The program's MAC in these tests. */
    private static final byte[] PROGRAM_MAC = {0x02, 0, 0, 0, 0, 0x02};

    private final MemoryIoSystem system = new MemoryIoSystem();

    /** {@code struct tun_pi} as the kernel writes it, built independently of the code under test. */
    private static byte[] pi(int flags, int proto) {
        ByteBuffer header = ByteBuffer.allocate(4);
        header.order(ByteOrder.nativeOrder()).putShort(0, (short) flags);
        header.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) proto);
        return header.array();
    }

    private static int errno(ErrnoException e) {
        return e.errno();
    }

    @Test
    void thePiHeaderFlagsAreInHostOrder() {
        // Pins pi() itself: x86_64 and arm64 Linux are little-endian.
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            assertArrayEquals(new byte[] {1, 0, (byte) 0x86, (byte) 0xDD}, pi(1, 0x86DD));
        } else {
            assertArrayEquals(new byte[] {0, 1, (byte) 0x86, (byte) 0xDD}, pi(1, 0x86DD));
        }
    }

    @Test
    void withoutPiAReadReturnsTheDatagram() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.addToReadBuffer(ipv4(60));
        assertArrayEquals(ipv4(60), tunnel.read(1500));
        assertEquals(0, tunnel.readBufferSize());
    }

    @Test
    void eachReadReturnsOnePacketOldestFirst() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.addToReadBuffer(ipv4(20));
        tunnel.addToReadBuffer(ipv6(48));
        tunnel.addToReadBuffer(ipv4(33));
        assertEquals(3, tunnel.readBufferSize());
        assertArrayEquals(ipv4(20), tunnel.read(1500));
        assertArrayEquals(ipv6(48), tunnel.read(1500));
        assertArrayEquals(ipv4(33), tunnel.read(1500));
    }

    @Test
    void withoutPiAReadIsCutToTheLimitAndTheRestIsLost() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.addToReadBuffer(ipv4(100));
        tunnel.addToReadBuffer(ipv4(30));
        assertArrayEquals(slice(ipv4(100), 0, 40), tunnel.read(40));
        assertArrayEquals(ipv4(30), tunnel.read(40), "the next read starts at the next packet");
    }

    @Test
    void withPiAnIpv4ReadStartsWithTheKernelsHeader() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        tunnel.addToReadBuffer(ipv4(60));
        assertArrayEquals(concat(pi(0, 0x0800), ipv4(60)), tunnel.read(1500));
    }

    @Test
    void withPiAnIpv6ReadCarriesTheIpv6Ethertype() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        tunnel.addToReadBuffer(ipv6(48));
        assertArrayEquals(concat(pi(0, 0x86DD), ipv6(48)), tunnel.read(1500));
    }

    @Test
    void withPiANonIpPacketHasProtocolZero() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        byte[] odd = Tunnels.numbered(10, 0x10);
        tunnel.addRawToReadBuffer(odd);
        assertArrayEquals(concat(pi(0, 0), odd), tunnel.read(1500));
    }

    @Test
    void withPiTheHeaderCountsTowardTheLimitAndACutIsMarkedWithTunPktStrip() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        tunnel.addToReadBuffer(ipv4(100));
        tunnel.addToReadBuffer(ipv4(30));
        byte[] read = tunnel.read(50);
        assertEquals(50, read.length);
        assertArrayEquals(concat(pi(TunIoctl.TUN_PKT_STRIP, 0x0800), slice(ipv4(100), 0, 46)), read);
        assertArrayEquals(concat(pi(0, 0x0800), ipv4(30)), tunnel.read(50), "rest of the first packet is lost");
    }

    @Test
    void withPiAnExactFitIsNotMarkedCut() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        tunnel.addToReadBuffer(ipv4(40));
        assertArrayEquals(concat(pi(0, 0x0800), ipv4(40)), tunnel.read(44));
        tunnel.addToReadBuffer(ipv4(40));
        assertArrayEquals(concat(pi(TunIoctl.TUN_PKT_STRIP, 0x0800), slice(ipv4(40), 0, 39)), tunnel.read(43));
    }

    @Test
    void withPiALimitOfExactlyTheHeaderReturnsOnlyTheHeader() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        tunnel.addToReadBuffer(ipv6(48));
        assertArrayEquals(pi(TunIoctl.TUN_PKT_STRIP, 0x86DD), tunnel.read(4));
    }

    @Test
    void withPiALimitBelowTheHeaderFailsWithEinvalAndDropsThePacketAsTheKernelDoes() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN_PI);
        tunnel.addToReadBuffer(ipv4(20));
        tunnel.addToReadBuffer(ipv4(21));
        ErrnoException e = assertThrows(ErrnoException.class, () -> tunnel.read(3));
        assertEquals(Errno.EINVAL, errno(e));
        assertArrayEquals(concat(pi(0, 0x0800), ipv4(21)), tunnel.read(100));
    }

    @Test
    void aLimitBelowOneFailsWithEinvalAndKeepsThePacket() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.addToReadBuffer(ipv4(20));
        assertEquals(Errno.EINVAL, errno(assertThrows(ErrnoException.class, () -> tunnel.read(0))));
        assertEquals(Errno.EINVAL, errno(assertThrows(ErrnoException.class, () -> tunnel.read(-5))));
        assertArrayEquals(ipv4(20), tunnel.read(100));
    }

    @Test
    void tapAsksForTheProgramsMacByArpThenSendsIpv4ToIt() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TAP);
        tunnel.addToReadBuffer(ipv4(28)); // 12.13.14.15 -> 16.17.18.19
        assertEquals(1, tunnel.readBufferSize(), "the datagram waits; an ARP request goes first");
        assertArrayEquals(concat(BROADCAST, NETWORK_MAC, new byte[] {0x08, 0x06}, Tunnels.hex("0001 0800 06 04 0001"),
                NETWORK_MAC, new byte[] {12, 13, 14, 15}, new byte[6], new byte[] {16, 17, 18, 19}), tunnel.read(1500));
        assertThrows(ErrnoException.class, () -> tunnel.read(1500), "nothing else yet");

        // The program answers: 16.17.18.19 is at 02:00:00:00:00:02; the datagram goes there.
        tunnel.write(concat(NETWORK_MAC, PROGRAM_MAC, new byte[] {0x08, 0x06}, Tunnels.hex("0001 0800 06 04 0002"),
                PROGRAM_MAC, new byte[] {16, 17, 18, 19}, NETWORK_MAC, new byte[] {12, 13, 14, 15}));
        assertArrayEquals(concat(PROGRAM_MAC, NETWORK_MAC, new byte[] {0x08, 0x00}, ipv4(28)), tunnel.read(1500));
        assertEquals("02:00:00:00:00:02", tunnel.programNeighbour(Tunnels.inet("16.17.18.19")).toString());

        tunnel.addToReadBuffer(ipv4(30)); // known now: no question asked
        assertArrayEquals(concat(PROGRAM_MAC, NETWORK_MAC, new byte[] {0x08, 0x00}, ipv4(30)), tunnel.read(1500));
    }

    @Test
    void tapSendsGroupDestinationsToTheirGroupMacsAtOnce() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TAP);
        byte[] broadcast = ipv4(28);
        java.util.Arrays.fill(broadcast, 16, 20, (byte) 0xFF);
        tunnel.addToReadBuffer(broadcast);
        assertArrayEquals(concat(BROADCAST, NETWORK_MAC, new byte[] {0x08, 0x00}, broadcast), tunnel.read(1500));
        byte[] multicast = ipv4(28);
        multicast[16] = (byte) 224;
        multicast[17] = (byte) 0x81; // the 24th bit is not in the MAC (RFC 1112)
        tunnel.addToReadBuffer(multicast);
        assertArrayEquals(concat(Tunnels.hex("01005e011213"), NETWORK_MAC, new byte[] {0x08, 0x00}, multicast), tunnel.read(1500));
        byte[] multicast6 = ipv6(48);
        multicast6[24] = (byte) 0xFF;
        tunnel.addToReadBuffer(multicast6);
        assertArrayEquals(concat(Tunnels.hex("333324252627"), NETWORK_MAC, new byte[] {(byte) 0x86, (byte) 0xDD}, multicast6),
                tunnel.read(1500));
        tunnel.addToReadBuffer(ipv4(10)); // no destination to read: broadcast, as before there was resolution
        assertArrayEquals(concat(BROADCAST, NETWORK_MAC, new byte[] {0x08, 0x00}, ipv4(10)), tunnel.read(1500));
    }

    @Test
    void tapSolicitsTheProgramsMacThenSendsIpv6WithTheIpv6Ethertype() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TAP);
        byte[] datagram = ipv6(48); // 0809:...:1617 -> 1819:1a1b:...:2627
        tunnel.addToReadBuffer(datagram);
        byte[] solicitation = tunnel.read(1500);
        assertArrayEquals(concat(Tunnels.hex("3333ff252627"), NETWORK_MAC, new byte[] {(byte) 0x86, (byte) 0xDD}),
                slice(solicitation, 0, 14), "to the solicited-node group of the destination");
        assertEquals(14 + 40 + 32, solicitation.length);
        assertEquals(255, solicitation[14 + 7] & 0xFF, "hop limit");
        assertArrayEquals(slice(datagram, 8, 24), slice(solicitation, 14 + 8, 14 + 24), "from the datagram's source");
        assertArrayEquals(Tunnels.hex("ff0200000000000000000001ff252627"), slice(solicitation, 14 + 24, 14 + 40));
        assertEquals(135, solicitation[14 + 40] & 0xFF);
        assertArrayEquals(slice(datagram, 24, 40), slice(solicitation, 14 + 48, 14 + 64), "the target");
        assertArrayEquals(concat(new byte[] {1, 1}, NETWORK_MAC), slice(solicitation, 14 + 64, 14 + 72));

        tunnel.write(concat(NETWORK_MAC, PROGRAM_MAC, new byte[] {(byte) 0x86, (byte) 0xDD},
                Tunnels.neighbourAdvertisement(slice(datagram, 24, 40), slice(datagram, 8, 24), PROGRAM_MAC)));
        assertArrayEquals(concat(PROGRAM_MAC, NETWORK_MAC, new byte[] {(byte) 0x86, (byte) 0xDD}, datagram), tunnel.read(1500));
    }

    @Test
    void tapWithPiPutsTheFramesEthertypeInTheHeader() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TAP_PI);
        tunnel.addProgramNeighbour(Tunnels.inet("16.17.18.19"), org.tuntap.codec.ethernet.MacAddress.of(0x020000000002L));
        tunnel.addToReadBuffer(ipv4(28));
        assertArrayEquals(concat(pi(0, 0x0800), PROGRAM_MAC, NETWORK_MAC, new byte[] {0x08, 0x00}, ipv4(28)),
                tunnel.read(1500));

        byte[] arp = concat(BROADCAST, new byte[] {2, 0, 0, 0, 0, 1}, new byte[] {0x08, 0x06}, new byte[28]);
        tunnel.addRawToReadBuffer(arp);
        assertArrayEquals(concat(pi(0, 0x0806), arp), tunnel.read(1500));
    }

    @Test
    void tapTruncationCutsTheFrame() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TAP_PI);
        tunnel.addProgramNeighbour(Tunnels.inet("16.17.18.19"), org.tuntap.codec.ethernet.MacAddress.of(0x020000000002L));
        tunnel.addToReadBuffer(ipv4(100));
        byte[] read = tunnel.read(24);
        assertArrayEquals(concat(pi(TunIoctl.TUN_PKT_STRIP, 0x0800), PROGRAM_MAC, NETWORK_MAC,
                new byte[] {0x08, 0x00}, slice(ipv4(100), 0, 6)), read);
    }

    @Test
    void rawPacketsAreQueuedExactlyAsGiven() throws ErrnoException {
        Tunnel tun = Tunnels.attached(system, TUN);
        byte[] garbage = {(byte) 0xF0, 1, 2};
        tun.addRawToReadBuffer(garbage);
        assertArrayEquals(garbage, tun.read(100));

        Tunnel tap = Tunnels.attached(system, TAP);
        byte[] frame = concat(new byte[12], new byte[] {(byte) 0x88, (byte) 0xB5}, new byte[46]);
        tap.addRawToReadBuffer(frame);
        assertArrayEquals(frame, tap.read(100), "no second Ethernet header in TAP mode");
    }

    @Test
    void aFullReadBufferDropsAndCountsPacketsAsTheKernelDoes() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        assertEquals(Tunnel.UNBOUNDED, tunnel.readQueueLimit());
        tunnel.setReadQueueLimit(2);
        assertTrue(tunnel.addToReadBuffer(ipv4(20)));
        assertTrue(tunnel.addRawToReadBuffer(ipv4(21)));
        assertFalse(tunnel.addToReadBuffer(ipv4(22)));
        assertFalse(tunnel.addRawToReadBuffer(ipv4(23)));
        assertEquals(2, tunnel.readDrops());
        assertEquals(2, tunnel.readBufferSize());
        assertArrayEquals(ipv4(20), tunnel.read(100));
        assertTrue(tunnel.addToReadBuffer(ipv4(24)), "reading made room");
        assertArrayEquals(ipv4(21), tunnel.read(100));
        assertArrayEquals(ipv4(24), tunnel.read(100));
        assertEquals(2, tunnel.readDrops());
        assertThrows(IllegalArgumentException.class, () -> tunnel.setReadQueueLimit(-1));
    }

    @Test
    void aDroppedPacketWakesNoOne() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setReadQueueLimit(0);
        int[] wakeUps = new int[1];
        tunnel.setReadinessListener(() -> wakeUps[0]++);
        assertFalse(tunnel.addToReadBuffer(ipv4(20)));
        assertEquals(0, wakeUps[0]);
        assertFalse(tunnel.isReadable());
    }

    @Test
    void queuedPacketsAreCopiesOfTheCallersBytes() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        byte[] datagram = ipv4(20);
        tunnel.addToReadBuffer(datagram);
        datagram[5] = 99;
        assertArrayEquals(ipv4(20), tunnel.readBuffer().get(0));
        tunnel.readBuffer().get(0)[5] = 99;
        assertArrayEquals(ipv4(20), tunnel.read(100));
    }

    @Test
    void byteBufOverloadsCopyTheReadableBytesAndLeaveTheBufferToTheCaller() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        ByteBuf datagram = Unpooled.buffer(64);
        ByteBuf raw = Unpooled.buffer(64);
        try {
            datagram.writeBytes(new byte[] {9, 9}).writeBytes(ipv4(20)).skipBytes(2);
            tunnel.addToReadBuffer(datagram);
            assertEquals(2, datagram.readerIndex());
            assertEquals(1, datagram.refCnt());
            datagram.setByte(10, 0x77);
            raw.writeBytes(ipv6(40));
            tunnel.addRawToReadBuffer(raw);
            assertEquals(0, raw.readerIndex());
        } finally {
            datagram.release();
            raw.release();
        }
        assertArrayEquals(ipv4(20), tunnel.read(100));
        assertArrayEquals(ipv6(40), tunnel.read(100));
    }

    @Test
    void emptyPacketsAreRefused() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        assertThrows(IllegalArgumentException.class, () -> tunnel.addToReadBuffer(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> tunnel.addRawToReadBuffer(Unpooled.EMPTY_BUFFER));
        assertEquals(0, tunnel.readBufferSize());
    }

    @Test
    void anEmptyNonBlockingReadFailsWithAStacklessEagain() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        ErrnoException e = assertThrows(ErrnoException.class, () -> tunnel.read(100));
        assertEquals(Errno.EAGAIN, e.errno());
        assertTrue(e.isWouldBlock());
        assertEquals(0, e.getStackTrace().length, "flow control carries no stack trace");
    }

    @Test
    void anEmptyReadCanFailWithEwouldblock() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setEmptyReadError(Errno.EWOULDBLOCK);
        ErrnoException e = assertThrows(ErrnoException.class, () -> tunnel.read(100));
        assertEquals(Errno.EWOULDBLOCK, e.errno());
        assertTrue(e.isWouldBlock());
        assertFalse(tunnel.isReadable());
    }

    @Test
    void anEmptyReadCanFailWithEintr() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setEmptyReadError(Errno.EINTR);
        ErrnoException e = assertThrows(ErrnoException.class, () -> tunnel.read(100));
        assertEquals(Errno.EINTR, e.errno());
        assertTrue(e.isInterrupted());
        assertEquals(0, e.getStackTrace().length);
        assertFalse(tunnel.isReadable(), "a signal is not fd readiness");
        assertThrows(ErrnoException.class, () -> tunnel.read(100), "the setting stays");
    }

    @Test
    void anEmptyReadCanFailWithAnyErrnoWhichMakesTheTunnelReadable() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        assertFalse(tunnel.isReadable());
        tunnel.setEmptyReadError(Errno.EIO);
        assertTrue(tunnel.isReadable(), "an fd in an error state is readable");
        assertEquals(Errno.EIO, assertThrows(ErrnoException.class, () -> tunnel.read(100)).errno());
        tunnel.resetEmptyReadError();
        assertFalse(tunnel.isReadable());
        assertEquals(Errno.EAGAIN, assertThrows(ErrnoException.class, () -> tunnel.read(100)).errno());
    }

    @Test
    void anEmptyReadCanThrowASuppliedRuntimeException() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        IllegalStateException failure = new IllegalStateException("reader must cope");
        tunnel.setEmptyReadError(() -> failure);
        assertTrue(tunnel.isReadable());
        assertSame(failure, assertThrows(IllegalStateException.class, () -> tunnel.read(100)));
    }

    @Test
    void anEmptyReadCanThrowASuppliedErrnoException() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        system.tunnel(fd).setEmptyReadError(() -> new ErrnoException("read", Errno.EBADFD, "device deleted"));
        ErrnoException e = assertThrows(ErrnoException.class, () -> system.read(fd, 100));
        assertEquals(Errno.EBADFD, e.errno());
        assertTrue(e.getMessage().contains("device deleted"));
    }

    @Test
    void aSuppliedCheckedExceptionIsReportedAsAMisuse() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        IOException checked = new IOException("not an errno");
        tunnel.setEmptyReadError(() -> checked);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> tunnel.read(100));
        assertSame(checked, e.getCause());
    }

    @Test
    void theEmptyReadErrorOnlyAppliesWhenNothingIsQueued() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.setEmptyReadError(Errno.EINTR);
        tunnel.addToReadBuffer(ipv4(20));
        assertArrayEquals(ipv4(20), tunnel.read(100));
        assertEquals(Errno.EINTR, assertThrows(ErrnoException.class, () -> tunnel.read(100)).errno());
    }

    @Test
    void aOneShotFailureFailsTheNextReadOnlyAndKeepsQueuedPackets() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        tunnel.addToReadBuffer(ipv4(20));
        tunnel.failNextRead(Errno.EIO);
        ErrnoException e = assertThrows(ErrnoException.class, () -> tunnel.read(100));
        assertEquals(Errno.EIO, e.errno());
        assertArrayEquals(ipv4(20), tunnel.read(100), "the packet waited");
        assertEquals(Errno.EAGAIN, assertThrows(ErrnoException.class, () -> tunnel.read(100)).errno());
    }

    @Test
    void oneShotFailuresMakeTheTunnelReadableUntilUsed() throws ErrnoException {
        Tunnel tunnel = Tunnels.attached(system, TUN);
        RuntimeException boom = new IllegalStateException("boom");
        tunnel.failNextRead(() -> boom);
        tunnel.failNextRead(Errno.EINTR);
        assertTrue(tunnel.isReadable());
        assertSame(boom, assertThrows(IllegalStateException.class, () -> tunnel.read(100)));
        assertTrue(tunnel.isReadable());
        ErrnoException interrupted = assertThrows(ErrnoException.class, () -> tunnel.read(100));
        assertTrue(interrupted.isInterrupted());
        assertEquals(0, interrupted.getStackTrace().length);
        assertFalse(tunnel.isReadable());
    }

    @Test
    void aBlockingTunnelRefusesToWaitOnAnEmptyBuffer() throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR);
        system.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode("tun%d", TUN));
        Tunnel tunnel = system.tunnel(fd);
        assertTrue(tunnel.blocking());
        tunnel.setEmptyReadError(Errno.EINTR); // only for non-blocking reads
        // Not EAGAIN, which a reader would take for "nothing yet": the mistake must show.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> tunnel.read(100));
        assertTrue(e.getMessage().contains("blocking fd would wait forever"), e.getMessage());
        assertTrue(e.getMessage().contains("O_NONBLOCK"), e.getMessage());
        tunnel.addToReadBuffer(ipv4(20));
        assertArrayEquals(ipv4(20), system.read(fd, 100), "queued packets are read at once");
    }

    @Test
    void beforeTunsetiffReadsFailWithEbadfdAndPacketsCannotBeQueued() throws ErrnoException {
        Tunnel tunnel = system.tunnel(system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT));
        assertEquals(Errno.EBADFD, assertThrows(ErrnoException.class, () -> tunnel.read(100)).errno());
        assertThrows(IllegalStateException.class, () -> tunnel.addToReadBuffer(ipv4(20)));
        assertThrows(IllegalStateException.class, () -> tunnel.addRawToReadBuffer(ipv4(20)));
        assertTrue(tunnel.isReadable(), "epoll reports EPOLLERR for an unattached tun fd");
    }

    @Test
    void afterCloseReadsFailWithEbadfAndPacketsCannotBeQueued() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        Tunnel tunnel = system.tunnel(fd);
        tunnel.addToReadBuffer(ipv4(20));
        system.close(fd);
        assertTrue(tunnel.isClosed());
        assertEquals(Errno.EBADF, assertThrows(ErrnoException.class, () -> tunnel.read(100)).errno());
        assertThrows(IllegalStateException.class, () -> tunnel.addToReadBuffer(ipv4(20)));
        assertEquals(1, tunnel.readBufferSize(), "buffers stay for inspection");
    }
}
