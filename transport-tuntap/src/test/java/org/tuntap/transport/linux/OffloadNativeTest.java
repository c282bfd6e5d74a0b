package org.tuntap.transport.linux;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunOffload;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link TunChannelOption#VNET_HDR} and {@link TunChannelOption#OFFLOADS} against the real kernel:
 * TCP super-packets read from the device, a super-packet written to it, plain packets with the
 * empty header, and the fallback when the kernel refuses an offload set.
 */
@Tag("netns")
class OffloadNativeTest {
    private static final byte[] LOCAL = {(byte) 192, 0, 2, 1};
    private static final byte[] PEER = {(byte) 192, 0, 2, 2};
    private static final int MTU = 1500;
    private static final int MSS = MTU - 40;

    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void epollGroup() {
        Netns.require();
        LinuxTun.ensureAvailability();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void shutdown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aKernelTcpConnectionThroughTheDeviceComesAsSuperPacketsAndTakesOne() throws Exception {
        Packets packets = new Packets();
        TunChannel channel = bind(packets, EnumSet.of(TunOffload.CSUM, TunOffload.TSO4), "tso%d");
        assertEquals(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4), channel.config().getAppliedOffloads());
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        byte[] sent = new byte[3 * MSS];
        Arrays.fill(sent, (byte) 'x');
        sent[0] = 'a';
        sent[sent.length - 1] = 'z';
        try (Socket client = new Socket()) {
            // Closed with a reset: a FIN nobody answers once the channel is gone would be
            // retransmitted for seconds, into whichever later test's device has these addresses.
            client.setSoLinger(true, 0);
            configure(channel.localAddress().name());
            client.bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
            Thread sender = new Thread(() -> talk(client, received, sent.length), "tcp-client");
            sender.start();

            // The "peer" at 192.0.2.2:5001 is this test, speaking TCP through the channel.
            byte[] syn = packets.nextTcp(Ipv4Tcp.SYN);
            int clientPort = Ipv4Udp.sourcePort(syn);
            long clientNext = Ipv4Tcp.seq(syn) + 1;
            long peerSeq = 1_000_000;
            byte[] mssAndWindowScale = {2, 4, (byte) (MSS >> 8), (byte) MSS, 1, 3, 3, 7};
            channel.writeAndFlush(withEmptyHeader(Ipv4Tcp.build(PEER, 5001, LOCAL, clientPort, peerSeq, clientNext,
                    Ipv4Tcp.SYN | Ipv4Tcp.ACK, 65535, mssAndWindowScale, new byte[0], false))).sync();
            peerSeq++;

            // Acknowledge everything the client sends until a read brings a TCP super-packet.
            byte[] superPacket = null;
            ByteBuf header = null;
            for (int i = 0; i < 10_000 && superPacket == null; i++) {
                ByteBuf read = packets.next();
                assertNotNull(read, "the client's data stopped before a super-packet came");
                byte[] ip = ByteBufUtil.getBytes(read, KernelVnetHeader.LENGTH, read.readableBytes() - KernelVnetHeader.LENGTH);
                if (!isTcpFrom(ip, clientPort) || Ipv4Tcp.payloadLength(ip) == 0) {
                    read.release();
                    continue;
                }
                if (Ipv4Tcp.seq(ip) == clientNext) {
                    clientNext += Ipv4Tcp.payloadLength(ip);
                }
                channel.writeAndFlush(withEmptyHeader(Ipv4Tcp.build(PEER, 5001, LOCAL, clientPort, peerSeq, clientNext,
                        Ipv4Tcp.ACK, 65535, new byte[0], new byte[0], false))).sync();
                if (ip.length > MTU) {
                    superPacket = ip;
                    header = read;
                } else {
                    read.release();
                }
            }
            assertNotNull(superPacket, "no read larger than the MTU in 10000 packets");
            try {
                assertEquals(KernelVnetHeader.GSO_TCPV4, KernelVnetHeader.gsoProtocol(header, 0),
                        KernelVnetHeader.toString(header, 0));
                int gsoSize = KernelVnetHeader.gsoSize(header, 0);
                assertTrue(gsoSize > 0 && gsoSize <= MSS, "gso_size " + gsoSize + " is a segment of at most the MSS");
                assertTrue(Ipv4Tcp.payloadLength(superPacket) > gsoSize, "more than one segment in one read");
                assertEquals(superPacket.length, Ipv4Udp.totalLength(superPacket), "the whole super-packet in one read");
                assertTrue(KernelVnetHeader.needsChecksum(header, 0), "the checksum is left to the reader (CSUM)");
                assertEquals(Ipv4Udp.IPV4_HEADER, KernelVnetHeader.csumStart(header, 0));
                assertEquals(16, KernelVnetHeader.csumOffset(header, 0), "TCP's checksum field");
            } finally {
                header.release();
            }

            // The other way: three segments' worth in one write, as a TSO super-packet with a
            // partial checksum; the kernel's TCP takes it and the client reads the bytes.
            byte[] reply = Ipv4Tcp.build(PEER, 5001, LOCAL, clientPort, peerSeq, clientNext,
                    Ipv4Tcp.ACK | Ipv4Tcp.PSH, 65535, new byte[0], sent, true);
            ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer();
            KernelVnetHeader.write(out, KernelVnetHeader.FLAG_NEEDS_CSUM, KernelVnetHeader.GSO_TCPV4,
                    40, MSS, Ipv4Udp.IPV4_HEADER, 16);
            channel.writeAndFlush(out.writeBytes(reply)).sync();
            assertArrayEquals(sent, received.get(10, TimeUnit.SECONDS), "what the client read");
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void plainPacketsCarryTheEmptyHeaderBothWays() throws Exception {
        Packets packets = new Packets();
        TunChannel channel = bind(packets, Set.of(), "vnet%d");
        try (DatagramSocket socket = new DatagramSocket(null)) {
            assertTrue(channel.config().getAppliedOffloads().isEmpty());
            configure(channel.localAddress().name());
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
            socket.setSoTimeout(5000);
            udpRoundTrip(channel, packets, socket, true);
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void anOffloadSetTheKernelRefusesFallsBackAndTheChannelWorks() throws Exception {
        // USO4 without USO6: every kernel refuses the set (before 6.2 USO is unknown, since then
        // the two go together), and the channel keeps what the kernel takes.
        Packets packets = new Packets();
        TunChannel channel = bind(packets, EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.USO4), "fall%d");
        try (DatagramSocket socket = new DatagramSocket(null)) {
            assertEquals(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4), channel.config().getAppliedOffloads());
            configure(channel.localAddress().name());
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
            socket.setSoTimeout(5000);
            udpRoundTrip(channel, packets, socket, false);
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void everyOffloadIsAppliedOrUsoAloneIsDroppedOnAnOlderKernel() throws Exception {
        TunChannel channel = bind(new Packets(), EnumSet.allOf(TunOffload.class), "all%d");
        try {
            Set<TunOffload> applied = channel.config().getAppliedOffloads();
            EnumSet<TunOffload> withoutUso = EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.TSO6, TunOffload.TSO_ECN);
            assertTrue(applied.equals(EnumSet.allOf(TunOffload.class)) || applied.equals(withoutUso), applied.toString());
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void udpSuperPacketsBothWaysWithUso() throws Exception {
        Packets packets = new Packets();
        TunChannel channel = bind(packets, EnumSet.of(TunOffload.CSUM, TunOffload.USO4, TunOffload.USO6), "uso%d");
        Channel sender = null;
        try (DatagramSocket socket = new DatagramSocket(null)) {
            assumeTrue(channel.config().getAppliedOffloads().contains(TunOffload.USO4), "USO needs Linux 6.2+");
            configure(channel.localAddress().name());
            int segment = 1000;
            byte[] payload = new byte[3 * segment];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) (i / segment + 'a');
            }

            // In: a kernel UDP socket sends three datagrams as one (UDP_SEGMENT); one read brings them.
            sender = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0)).sync().channel();
            sender.writeAndFlush(new SegmentedDatagramPacket(Unpooled.wrappedBuffer(payload), segment,
                    new InetSocketAddress(InetAddress.getByAddress(PEER), 6000))).sync();
            ByteBuf read = packets.nextUdpTo(6000);
            try {
                assertEquals(KernelVnetHeader.GSO_UDP_L4, KernelVnetHeader.gsoProtocol(read, 0), KernelVnetHeader.toString(read, 0));
                assertEquals(segment, KernelVnetHeader.gsoSize(read, 0));
                assertEquals(6, KernelVnetHeader.csumOffset(read, 0), "UDP's checksum field");
                assertArrayEquals(payload, Ipv4Udp.udpPayload(ByteBufUtil.getBytes(read, KernelVnetHeader.LENGTH,
                        read.readableBytes() - KernelVnetHeader.LENGTH)), "three datagrams' payload in one read");
            } finally {
                read.release();
            }

            // Out: one USO super-packet with a partial checksum; the socket receives three datagrams.
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
            socket.setSoTimeout(5000);
            byte[] datagram = Ipv4Udp.build(PEER, 6000, LOCAL, socket.getLocalPort(), payload);
            int pseudo = 0;
            for (int i = 12; i < 20; i += 2) {
                pseudo += ((datagram[i] & 0xFF) << 8) | (datagram[i + 1] & 0xFF);
            }
            pseudo += Ipv4Udp.PROTOCOL_UDP + Ipv4Udp.UDP_HEADER + payload.length;
            while ((pseudo >>> 16) != 0) {
                pseudo = (pseudo & 0xFFFF) + (pseudo >>> 16);
            }
            datagram[Ipv4Udp.IPV4_HEADER + 6] = (byte) (pseudo >>> 8); // folded, not inverted
            datagram[Ipv4Udp.IPV4_HEADER + 7] = (byte) pseudo;
            ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer();
            KernelVnetHeader.write(out, KernelVnetHeader.FLAG_NEEDS_CSUM, KernelVnetHeader.GSO_UDP_L4,
                    Ipv4Udp.IPV4_HEADER + Ipv4Udp.UDP_HEADER, segment, Ipv4Udp.IPV4_HEADER, 6);
            channel.writeAndFlush(out.writeBytes(datagram)).sync();
            for (int i = 0; i < 3; i++) {
                DatagramPacket received = new DatagramPacket(new byte[2 * segment], 2 * segment);
                socket.receive(received);
                assertArrayEquals(Arrays.copyOfRange(payload, i * segment, (i + 1) * segment),
                        Arrays.copyOf(received.getData(), received.getLength()), "datagram " + i);
            }
        } finally {
            if (sender != null) {
                sender.close().sync();
            }
            channel.close().sync();
        }
    }

    /** A UDP datagram from the socket arrives behind a header without GSO; one written with the empty header reaches the socket. */
    private static void udpRoundTrip(TunChannel channel, Packets packets, DatagramSocket socket, boolean withoutCsum)
            throws Exception {
        byte[] payload = "ping with a virtio header".getBytes();
        socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByAddress(PEER), 5555));
        ByteBuf read = packets.nextUdpTo(5555);
        try {
            assertFalse(KernelVnetHeader.isGso(read, 0));
            if (withoutCsum) {
                assertFalse(KernelVnetHeader.needsChecksum(read, 0), "without CSUM the kernel completes the checksum");
            }
            assertArrayEquals(payload, Ipv4Udp.udpPayload(ByteBufUtil.getBytes(read, KernelVnetHeader.LENGTH,
                    read.readableBytes() - KernelVnetHeader.LENGTH)));
        } finally {
            read.release();
        }
        byte[] reply = Ipv4Udp.build(PEER, 5555, LOCAL, socket.getLocalPort(), "pong".getBytes());
        channel.writeAndFlush(withEmptyHeader(reply)).sync();
        DatagramPacket received = new DatagramPacket(new byte[100], 100);
        socket.receive(received);
        assertEquals("pong", new String(received.getData(), 0, received.getLength()));
        assertEquals(new InetSocketAddress(InetAddress.getByAddress(PEER), 5555), received.getSocketAddress());
    }

    /** Connects to the peer, then reads {@code expected} bytes into {@code received}. */
    private static void talk(Socket client, CompletableFuture<byte[]> received, int expected) {
        try {
            client.connect(new InetSocketAddress(InetAddress.getByAddress(PEER), 5001), 10_000);
            client.setSoTimeout(10_000);
            // Enough to fill the initial window many times over; the test ACKs it segment by segment.
            byte[] chunk = new byte[64 * 1024];
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 64; i++) {
                        client.getOutputStream().write(chunk);
                    }
                } catch (IOException closed) {
                    // the test is over and closed the socket
                }
            }, "tcp-client-writer");
            writer.setDaemon(true);
            writer.start();
            InputStream in = client.getInputStream();
            received.complete(in.readNBytes(expected));
        } catch (Throwable t) {
            received.completeExceptionally(t);
        }
    }

    private TunChannel bind(Packets packets, Set<TunOffload> offloads, String name) throws InterruptedException {
        Channel channel = new Bootstrap().group(group)
                .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, offloads)
                .handler(packets)
                .bind(new TunAddress(name)).sync().channel();
        return (TunChannel) channel;
    }

    private static void configure(String name) throws Exception {
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setIpv4Address(name, (Inet4Address) InetAddress.getByAddress(LOCAL), 24);
        interfaces.setUp(name, true);
    }

    private static ByteBuf withEmptyHeader(byte[] packet) {
        return KernelVnetHeader.writeEmpty(PooledByteBufAllocator.DEFAULT.directBuffer()).writeBytes(packet);
    }

    private static boolean isTcpFrom(byte[] ip, int port) {
        return Ipv4Udp.version(ip) == 4 && Ipv4Udp.protocol(ip) == Ipv4Tcp.PROTOCOL_TCP && Ipv4Udp.sourcePort(ip) == port;
    }

    /** Keeps what the channel reads, header and all (copied to unpooled buffers so nothing leaks). */
    private static final class Packets extends ChannelInboundHandlerAdapter {
        private final BlockingQueue<ByteBuf> queue = new LinkedBlockingQueue<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            try {
                queue.add(Unpooled.wrappedBuffer(ByteBufUtil.getBytes(packet)));
            } finally {
                packet.release();
            }
        }

        /** The next packet read, or null after 5 s of silence. */
        ByteBuf next() throws InterruptedException {
            return queue.poll(5, TimeUnit.SECONDS);
        }

        /** The next IPv4 TCP packet with {@code flags} set (after its header). */
        byte[] nextTcp(int flags) throws InterruptedException {
            for (;;) {
                ByteBuf read = next();
                assertNotNull(read, "no TCP packet with flags 0x" + Integer.toHexString(flags));
                try {
                    byte[] ip = ByteBufUtil.getBytes(read, KernelVnetHeader.LENGTH, read.readableBytes() - KernelVnetHeader.LENGTH);
                    if (Ipv4Udp.version(ip) == 4 && Ipv4Udp.protocol(ip) == Ipv4Tcp.PROTOCOL_TCP
                            && (Ipv4Tcp.flags(ip) & flags) == flags) {
                        return ip;
                    }
                } finally {
                    read.release();
                }
            }
        }

        /** The next IPv4 UDP packet to {@code port}, header and all. */
        ByteBuf nextUdpTo(int port) throws InterruptedException {
            for (;;) {
                ByteBuf read = next();
                assertNotNull(read, "no UDP packet to port " + port);
                byte[] ip = ByteBufUtil.getBytes(read, KernelVnetHeader.LENGTH, read.readableBytes() - KernelVnetHeader.LENGTH);
                if (Ipv4Udp.version(ip) == 4 && Ipv4Udp.protocol(ip) == Ipv4Udp.PROTOCOL_UDP
                        && Ipv4Udp.destinationPort(ip) == port) {
                    return read;
                }
                read.release();
            }
        }
    }
}
