package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-memory tunnel's IFF_VNET_HDR: the ioctls as the kernel answers them, and the header on the wire. */
class TunnelVnetHeaderTest {
    private static final int TUN_VNET = Tunnels.TUN | TunIoctl.IFF_VNET_HDR;
    private final MemoryIoSystem system = new MemoryIoSystem();

    @Test
    void featuresOfferTheHeaderBeforeTunsetiff() throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        byte[] features = new byte[4];
        system.ioctl(fd, TunIoctl.TUNGETFEATURES, features);
        int offered = ByteBuffer.wrap(features).order(ByteOrder.nativeOrder()).getInt();
        assertEquals(TunIoctl.IFF_VNET_HDR, offered & TunIoctl.IFF_VNET_HDR);
        assertEquals(TunIoctl.IFF_TUN | TunIoctl.IFF_TAP, offered & (TunIoctl.IFF_TUN | TunIoctl.IFF_TAP));
    }

    @Test
    void headerSizeBelowTenIsRefusedAndALargerOneIsZeroPaddedOnRead() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN_VNET);
        ErrnoException small = assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETVNETHDRSZ, size(9)));
        assertEquals(Errno.EINVAL, small.errno());
        system.ioctl(fd, TunIoctl.TUNSETVNETHDRSZ, size(12));
        Tunnel tunnel = system.tunnel(fd);
        assertEquals(12, tunnel.vnetHeaderSize());
        byte[] packet = Tunnels.ipv4(30);
        tunnel.addToReadBuffer(packet);
        assertArrayEquals(Tunnels.concat(new byte[12], packet), system.read(fd, 2000));
        // Written: the 12 bytes are taken as the header, the IP packet follows them.
        system.write(fd, Tunnels.concat(new byte[12], packet));
        assertArrayEquals(Tunnels.concat(new byte[12], packet), tunnel.takeWritten());
    }

    @Test
    void headerSizeNeedsAnAttachedDevice() throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        assertEquals(Errno.EBADFD, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETVNETHDRSZ, size(10))).errno());
        assertEquals(Errno.EBADFD, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETOFFLOAD, 0L)).errno());
    }

    @Test
    void offloadSetsFollowTheKernelsRules() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN_VNET);
        int csum = TunIoctl.TUN_F_CSUM;
        long[] refused = {
            TunIoctl.TUN_F_TSO4,                                  // TSO without CSUM
            csum | TunIoctl.TUN_F_TSO_ECN,                        // ECN without TSO
            csum | TunIoctl.TUN_F_USO4,                           // USO4 without USO6
            csum | 0x100,                                         // a bit nobody knows
        };
        for (long flags : refused) {
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                    () -> system.ioctl(fd, TunIoctl.TUNSETOFFLOAD, flags)).errno(), "0x" + Long.toHexString(flags));
        }
        system.ioctl(fd, TunIoctl.TUNSETOFFLOAD, MemoryIoSystem.ALL_OFFLOAD_FLAGS);
        assertEquals(MemoryIoSystem.ALL_OFFLOAD_FLAGS, system.tunnel(fd).offloadFlags());
        system.setSupportedOffloadFlags(MemoryIoSystem.ALL_OFFLOAD_FLAGS & ~(TunIoctl.TUN_F_USO4 | TunIoctl.TUN_F_USO6));
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.ioctl(fd, TunIoctl.TUNSETOFFLOAD, MemoryIoSystem.ALL_OFFLOAD_FLAGS)).errno(),
                "a kernel before 6.2 knows no USO");
    }

    @Test
    void writtenHeadersAreCheckedAsTheKernelChecksThem() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN_VNET);
        byte[] packet = Tunnels.ipv4(40);
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.write(fd, new byte[9])).errno(), "shorter than the header");
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.write(fd, Tunnels.concat(header(0, 7, 0, 0), packet))).errno(), "unknown gso_type");
        ErrnoException pastTheEnd = assertThrows(ErrnoException.class,
                () -> system.write(fd, Tunnels.concat(header(VirtioNetHeader.FLAG_NEEDS_CSUM, 0, 30, 16), packet)));
        assertEquals(Errno.EINVAL, pastTheEnd.errno());
        assertTrue(pastTheEnd.getMessage().contains("NEEDS_CSUM"), pastTheEnd.getMessage());
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> system.write(fd, Tunnels.concat(new byte[10], Tunnels.numbered(40, 0x30)))).errno(),
                "the IP version check looks behind the header");
        byte[] good = Tunnels.concat(header(VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 20, 16), packet);
        system.write(fd, good);
        assertArrayEquals(good, system.tunnel(fd).takeWritten());
    }

    @Test
    void aHeaderIsOnlyGivenToATunnelThatCarriesOne() throws ErrnoException {
        Tunnel plain = Tunnels.attached(system, Tunnels.TUN);
        assertThrows(IllegalStateException.class, () -> plain.addToReadBuffer(new byte[10], Tunnels.ipv4(20)));
        Tunnel vnet = Tunnels.attached(system, TUN_VNET);
        assertThrows(IllegalArgumentException.class, () -> vnet.addToReadBuffer(new byte[12], Tunnels.ipv4(20)));
    }

    private static byte[] header(int flags, int gsoType, int csumStart, int csumOffset) {
        ByteBuf header = Unpooled.buffer(VirtioNetHeader.LENGTH);
        try {
            VirtioNetHeader.write(header, flags, gsoType, 40, 1448, csumStart, csumOffset);
            byte[] bytes = new byte[VirtioNetHeader.LENGTH];
            header.getBytes(0, bytes);
            return bytes;
        } finally {
            header.release();
        }
    }

    private static byte[] size(int bytes) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(bytes).array();
    }
}
