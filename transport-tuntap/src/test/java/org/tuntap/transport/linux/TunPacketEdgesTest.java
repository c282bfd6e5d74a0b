package org.tuntap.transport.linux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TAP;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;
import static org.tuntap.transport.spi.TunIoctl.TUN_PKT_STRIP;

/** What the kernel does at the edges: TAP frames, PI headers, short reads, refused writes. */
@Tag("netns")
class TunPacketEdgesTest {
    private static final byte[] LOCAL = {(byte) 192, 0, 2, 1};
    private static final byte[] PEER = {(byte) 192, 0, 2, 2};

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
    }

    @Test
    void tapDeviceYieldsTheKernelsArpRequestAsAnEthernetFrame() throws Exception {
        try (TunFd tap = up("tap%d", IFF_TAP | IFF_NO_PI);
             DatagramSocket socket = new DatagramSocket(0, InetAddress.getByAddress(LOCAL))) {
            socket.send(new DatagramPacket(new byte[1], 1, InetAddress.getByAddress(PEER), 4444));
            byte[] frame = readUntil(tap, f -> f.length >= 42 && etherType(f, 12) == 0x0806);
            for (int i = 0; i < 6; i++) {
                assertEquals((byte) 0xFF, frame[i], "broadcast destination");
            }
            assertEquals(1, etherType(frame, 14 + 6), "ARP request");
            assertEquals(0x0800, etherType(frame, 14 + 2), "for IPv4");
            for (int i = 0; i < 4; i++) {
                assertEquals(PEER[i], frame[14 + 24 + i], "target protocol address");
                assertEquals(LOCAL[i], frame[14 + 14 + i], "sender protocol address");
            }
        }
    }

    @Test
    void packetInfoHeaderCarriesTheProtocolAndStripFlagOnAShortRead() throws Exception {
        try (TunFd tun = up("pi%d", IFF_TUN);
             DatagramSocket socket = new DatagramSocket(0, InetAddress.getByAddress(LOCAL))) {
            socket.send(new DatagramPacket(new byte[100], 100, InetAddress.getByAddress(PEER), 4445));
            // 4 (PI) + 128 (IPv4 + UDP + 100) bytes wanted; give 40: the kernel truncates and says so.
            byte[] head = readUntil(tun, 40, p -> etherType(p, 2) == 0x0800 && (p[4 + 9] & 0xFF) == 17);
            assertEquals(40, head.length);
            int flags = java.nio.ByteBuffer.wrap(head).order(java.nio.ByteOrder.nativeOrder()).getShort(0);
            assertEquals(TUN_PKT_STRIP, flags, "PI flags are in host order");
            assertEquals(4, (head[4] & 0xFF) >>> 4);
        }
    }

    @Test
    void shortReadWithoutPacketInfoTruncatesSilently() throws Exception {
        try (TunFd tun = up("trunc%d", IFF_TUN | IFF_NO_PI);
             DatagramSocket socket = new DatagramSocket(0, InetAddress.getByAddress(LOCAL))) {
            socket.send(new DatagramPacket(new byte[100], 100, InetAddress.getByAddress(PEER), 4446));
            byte[] head = readUntil(tun, 30, p -> (p[0] & 0xF0) == 0x40 && (p[9] & 0xFF) == 17);
            assertEquals(30, head.length);
            assertEquals(128, Ipv4Udp.totalLength(head), "the header still tells the real length");
        }
    }

    @Test
    void writeThatIsNoIpPacketIsRefusedWithEinval() throws Exception {
        try (TunFd tun = up("junk%d", IFF_TUN | IFF_NO_PI)) {
            ByteBuf junk = Unpooled.directBuffer().writeBytes(new byte[]{0x10, 1, 2, 3, 4, 5, 6, 7});
            try {
                ErrnoException e = assertThrows(ErrnoException.class, () -> tun.io.write(tun.fd, junk));
                assertEquals(Errno.EINVAL, e.errno());
                assertTrue(e.getMessage().contains("IP version 4 or 6"), e.getMessage());
            } finally {
                junk.release();
            }
        }
    }

    @Test
    void bufferMisuseFailsBeforeTheSystemCall() throws Exception {
        try (TunFd tun = TunFd.attach("misuse%d", IFF_TUN | IFF_NO_PI)) {
            ByteBuf small = Unpooled.directBuffer(16, 16);
            try {
                assertThrows(IllegalArgumentException.class, () -> tun.io.read(tun.fd, small, 17));
                assertThrows(IllegalArgumentException.class, () -> tun.io.read(tun.fd, small, 0));
            } finally {
                small.release();
            }
            ByteBuf freed = Unpooled.directBuffer(64).writeBytes(Ipv4Udp.build(PEER, 1, LOCAL, 2, new byte[4]));
            freed.release();
            assertThrows(IllegalReferenceCountException.class, () -> tun.io.write(tun.fd, freed));
            assertThrows(IllegalReferenceCountException.class, () -> tun.io.read(tun.fd, freed, 8));
        }
    }

    private static TunFd up(String template, int flags) throws Exception {
        TunFd tun = TunFd.attach(template, flags);
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setIpv4Address(tun.name, (Inet4Address) InetAddress.getByAddress(LOCAL), 24);
        interfaces.setUp(tun.name, true);
        return tun;
    }

    private static int etherType(byte[] p, int offset) {
        return ((p[offset] & 0xFF) << 8) | (p[offset + 1] & 0xFF);
    }

    interface PacketTest {
        boolean matches(byte[] packet);
    }

    private static byte[] readUntil(TunFd tun, PacketTest test) throws Exception {
        return readUntil(tun, 2048, test);
    }

    /** Reads packets of at most {@code limit} bytes until one matches (IPv6 chatter is skipped). */
    private static byte[] readUntil(TunFd tun, int limit, PacketTest test) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        ByteBuf buffer = Unpooled.directBuffer(limit);
        try {
            while (System.nanoTime() < deadline) {
                buffer.clear();
                try {
                    tun.io.read(tun.fd, buffer, limit);
                } catch (ErrnoException e) {
                    if (!e.isWouldBlock()) {
                        throw e;
                    }
                    Thread.sleep(1);
                    continue;
                }
                byte[] packet = new byte[buffer.readableBytes()];
                buffer.readBytes(packet);
                if (test.matches(packet)) {
                    return packet;
                }
            }
        } finally {
            buffer.release();
        }
        return fail("no matching packet from " + tun.name);
    }
}
