package org.tuntap.transport.linux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.ErrnoException;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;

/**
 * A kernel UDP socket talks to the TUN fd: what it sends to an address routed through the device
 * comes out of the fd, and a reply written to the fd reaches the socket. Every payload size from
 * empty to a packet that fills the MTU, through native, heap and composite buffers.
 */
@Tag("netns")
class UdpThroughTunTest {
    private static final int MTU = 1400;
    private static final byte[] LOCAL = {(byte) 192, 0, 2, 1};
    private static final byte[] PEER = {(byte) 192, 0, 2, 2};
    private static final int PEER_PORT = 9999;

    private TunFd tun;
    private DatagramSocket socket;

    @BeforeEach
    void deviceWithAddressUp() throws Exception {
        Netns.require();
        tun = TunFd.attach("udp%d", IFF_TUN | IFF_NO_PI);
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setMtu(tun.name, MTU);
        interfaces.setIpv4Address(tun.name, (Inet4Address) InetAddress.getByAddress(LOCAL), 24);
        interfaces.setUp(tun.name, true);
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
        socket.setSoTimeout(5000);
    }

    @AfterEach
    void closeAll() throws Exception {
        if (socket != null) {
            socket.close();
        }
        if (tun != null) {
            tun.close();
        }
    }

    @ParameterizedTest(name = "payload {0} bytes")
    @ValueSource(ints = {0, 1, 2, 99, 512, 1371, MTU - 28})
    void socketToFdAndBackThroughDirectBuffers(int payloadSize) throws Exception {
        roundTrip(payloadSize, PooledByteBufAllocator.DEFAULT, false);
    }

    @ParameterizedTest(name = "payload {0} bytes")
    @ValueSource(ints = {0, 17, MTU - 28})
    void socketToFdAndBackThroughHeapBuffers(int payloadSize) throws Exception {
        roundTrip(payloadSize, new UnpooledByteBufAllocator(false), false);
    }

    @ParameterizedTest(name = "payload {0} bytes")
    @ValueSource(ints = {0, 300, MTU - 28})
    void replyWrittenFromACompositeBuffer(int payloadSize) throws Exception {
        roundTrip(payloadSize, PooledByteBufAllocator.DEFAULT, true);
    }

    /** All parts native: the write goes out as one writev of the parts, with no copy. */
    @ParameterizedTest(name = "payload {0} bytes")
    @ValueSource(ints = {0, 300, MTU - 28})
    void replyWrittenFromADirectCompositeBufferInThreeParts(int payloadSize) throws Exception {
        roundTrip(payloadSize, PooledByteBufAllocator.DEFAULT, true, true);
    }

    private void roundTrip(int payloadSize, ByteBufAllocator allocator, boolean compositeReply) throws Exception {
        roundTrip(payloadSize, allocator, compositeReply, false);
    }

    private void roundTrip(int payloadSize, ByteBufAllocator allocator, boolean compositeReply, boolean directParts)
            throws Exception {
        byte[] payload = new byte[payloadSize];
        for (int i = 0; i < payloadSize; i++) {
            payload[i] = (byte) (i * 7 + payloadSize);
        }
        socket.send(new DatagramPacket(payload, payloadSize, InetAddress.getByAddress(PEER), PEER_PORT));

        // Leave room behind the writer index, so the read must land at it, not at 0.
        ByteBuf in = allocator.buffer(MTU + 16);
        byte[] packet;
        try {
            in.writeZero(3).readerIndex(3);
            packet = readUdpTo(PEER_PORT, in);
        } finally {
            in.release();
        }
        assertEquals(4, Ipv4Udp.version(packet));
        assertEquals(Ipv4Udp.PROTOCOL_UDP, Ipv4Udp.protocol(packet));
        assertEquals(packet.length, Ipv4Udp.totalLength(packet));
        assertEquals(20 + 8 + payloadSize, packet.length);
        assertTrue(Ipv4Udp.headerChecksumOk(packet), "IPv4 header checksum");
        assertArrayEquals(LOCAL, Ipv4Udp.source(packet));
        assertArrayEquals(PEER, Ipv4Udp.destination(packet));
        assertEquals(socket.getLocalPort(), Ipv4Udp.sourcePort(packet));
        assertArrayEquals(payload, Ipv4Udp.udpPayload(packet));

        byte[] replyPayload = payload.clone();
        for (int i = 0; i < replyPayload.length; i++) {
            replyPayload[i] ^= (byte) 0x5A;
        }
        byte[] reply = Ipv4Udp.build(PEER, PEER_PORT, LOCAL, socket.getLocalPort(), replyPayload);
        ByteBuf out = compositeReply
                ? (directParts ? directComposite(reply) : composite(allocator, reply))
                : allocator.buffer(reply.length + 5);
        try {
            if (!compositeReply) {
                out.writeZero(5).readerIndex(5); // the write must start at the reader index
                out.writeBytes(reply);
            }
            int readerIndex = out.readerIndex();
            assertEquals(reply.length, tun.io.write(tun.fd, out));
            assertEquals(readerIndex, out.readerIndex(), "write leaves indexes alone");
        } finally {
            out.release();
        }
        DatagramPacket received = new DatagramPacket(new byte[MTU], MTU);
        socket.receive(received);
        assertEquals(new InetSocketAddress(InetAddress.getByAddress(PEER), PEER_PORT), received.getSocketAddress());
        assertArrayEquals(replyPayload, Arrays.copyOf(received.getData(), received.getLength()));
    }

    private static CompositeByteBuf composite(ByteBufAllocator allocator, byte[] reply) {
        CompositeByteBuf composite = allocator.compositeBuffer();
        int split = Math.min(20, reply.length);
        composite.addComponent(true, allocator.buffer(split).writeBytes(reply, 0, split));
        composite.addComponent(true, Unpooled.wrappedBuffer(reply, split, reply.length - split));
        return composite;
    }

    /** The reply in three direct parts: IPv4 header, UDP header, payload. */
    private static CompositeByteBuf directComposite(byte[] reply) {
        CompositeByteBuf composite = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer();
        int[] cuts = {0, Math.min(20, reply.length), Math.min(28, reply.length), reply.length};
        for (int i = 0; i < 3; i++) {
            ByteBuf part = PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(1, cuts[i + 1] - cuts[i]));
            composite.addComponent(true, part.writeBytes(reply, cuts[i], cuts[i + 1] - cuts[i]));
        }
        return composite;
    }

    /** Reads packets off the fd until a UDP datagram to {@code port} (IPv6 chatter is skipped). */
    private byte[] readUdpTo(int port, ByteBuf buffer) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            int start = buffer.writerIndex();
            int n;
            try {
                n = tun.io.read(tun.fd, buffer, MTU);
            } catch (ErrnoException e) {
                if (!e.isWouldBlock()) {
                    throw e;
                }
                Thread.sleep(1);
                continue;
            }
            assertEquals(start + n, buffer.writerIndex(), "read advances the writer index by its result");
            byte[] packet = new byte[n];
            buffer.getBytes(start, packet);
            buffer.writerIndex(start);
            if (Ipv4Udp.version(packet) == 4 && Ipv4Udp.protocol(packet) == Ipv4Udp.PROTOCOL_UDP
                    && Ipv4Udp.destinationPort(packet) == port) {
                return packet;
            }
        }
        fail("no UDP packet to port " + port + " came out of " + tun.name);
        return null;
    }
}
