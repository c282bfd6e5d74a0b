package org.tuntap.testkit;

import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.util.Arrays;

/** Test helpers: opening tunnels the way a TUN port does, and packets the tunnel can classify. */
final class Tunnels {
    static final int TUN = TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI;
    static final int TUN_PI = TunIoctl.IFF_TUN;
    static final int TAP = TunIoctl.IFF_TAP | TunIoctl.IFF_NO_PI;
    static final int TAP_PI = TunIoctl.IFF_TAP;

    private Tunnels() {
    }

    /** Opens {@code /dev/net/tun} as a TUN port does and attaches it with TUNSETIFF. */
    static int open(MemoryIoSystem system, String name, int mode) throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        system.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode(name, mode));
        return fd;
    }

    /** The tunnel behind a freshly opened and attached fd. */
    static Tunnel attached(MemoryIoSystem system, int mode) throws ErrnoException {
        return system.tunnel(open(system, "", mode));
    }

    /**
     * {@code length} bytes starting with {@code 0x45} (IPv4, IHL 5) and numbered filler: the
     * tunnel only looks at the version nibble, and the filler shows which bytes survived a cut.
     */
    static byte[] ipv4(int length) {
        return numbered(length, 0x45);
    }

    /** Like {@link #ipv4} with first byte {@code 0x60} (IPv6). */
    static byte[] ipv6(int length) {
        return numbered(length, 0x60);
    }

    static byte[] numbered(int length, int first) {
        byte[] packet = new byte[length];
        for (int i = 1; i < length; i++) {
            packet[i] = (byte) i;
        }
        packet[0] = (byte) first;
        return packet;
    }

    static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] result = new byte[length];
        int offset = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, result, offset, part.length);
            offset += part.length;
        }
        return result;
    }

    static byte[] slice(byte[] bytes, int from, int to) {
        return Arrays.copyOfRange(bytes, from, to);
    }

    /** The bytes of hex text (spaces allowed). */
    static byte[] hex(String text) {
        return io.netty.buffer.ByteBufUtil.decodeHexDump(text.replace(" ", ""));
    }

    static java.net.InetAddress inet(String literal) {
        try {
            return java.net.InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * An IPv6 neighbour advertisement (solicited, override) of {@code target} at {@code mac},
     * from the target to {@code destination}, built with the codec's builder.
     */
    static byte[] neighbourAdvertisement(byte[] target, byte[] destination, byte[] mac) {
        io.netty.buffer.ByteBuf out = io.netty.buffer.Unpooled.buffer();
        try {
            long th = java.nio.ByteBuffer.wrap(target).getLong(0);
            long tl = java.nio.ByteBuffer.wrap(target).getLong(8);
            new org.tuntap.codec.ndp.NdpRepr().advertisement(th, tl, org.tuntap.codec.ethernet.MacAddress.of(mac).bits(),
                            org.tuntap.codec.ndp.NdpMessage.FLAG_SOLICITED | org.tuntap.codec.ndp.NdpMessage.FLAG_OVERRIDE)
                    .addresses(th, tl, java.nio.ByteBuffer.wrap(destination).getLong(0), java.nio.ByteBuffer.wrap(destination).getLong(8))
                    .emitPacket(out);
            return io.netty.buffer.ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }
}
