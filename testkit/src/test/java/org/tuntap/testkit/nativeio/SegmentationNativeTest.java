package org.tuntap.testkit.nativeio;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.codec.vnet.VnetHeaderEncoder;
import org.tuntap.codec.vnet.VnetSegmentationHandler;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.testsupport.InetPackets;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.TunOffload;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;

import java.io.OutputStream;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;
import static org.tuntap.testkit.nativeio.NativeDevices.PREFIX;

/**
 * {@link VnetSegmentationHandler} against the real kernel: a TUN device with {@code VNET_HDR}
 * and TSO (or USO) hands over the kernel's super-packets, and the pipeline sees only ordinary
 * packets of at most the MTU, with valid checksums, carrying exactly what the kernel socket sent.
 * For TCP the test is the peer: a minimal responder on the channel's event loop answers the
 * handshake and acknowledges every in-order byte (its packets leave through
 * {@link VnetHeaderEncoder}).
 */
@Tag("netns")
class SegmentationNativeTest {
    private static final Inet6Address KERNEL6 = v6("2001:db8:0:3::1");
    private static final Inet6Address APP6 = v6("2001:db8:0:3::2");
    private static final int MTU = 1500;
    private static final int PORT = 5001;
    /** Enough for the kernel's congestion window to open well past one segment. */
    private static final int STREAM = 1 << 20;

    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void epollGroup() {
        Netns.require();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void shutdown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @ParameterizedTest(name = "IPv{0}")
    @ValueSource(ints = {4, 6})
    void aKernelTcpStreamArrivesAsValidSegmentsByteForByte(int family) throws Exception {
        boolean v4 = family == 4;
        InetAddress kernel = v4 ? KERNEL : KERNEL6;
        InetAddress app = v4 ? APP : APP6;
        GsoReads reads = new GsoReads();
        VnetSegmentationHandler segmentation = new VnetSegmentationHandler();
        TcpPeer peer = new TcpPeer(app.getAddress(), kernel.getAddress(), MTU - (v4 ? 40 : 60));
        TunChannel channel = bind(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.TSO6), "gso%d",
                reads, segmentation, new VnetHeaderEncoder(), peer);
        try {
            assertEquals(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.TSO6), channel.config().getAppliedOffloads());
            configure(channel);
            byte[] sent = new byte[STREAM];
            new Random(family).nextBytes(sent);
            try (Socket client = boundSocket(kernel)) {
                client.connect(new InetSocketAddress(app, PORT), 10_000);
                OutputStream out = client.getOutputStream();
                out.write(sent);
                out.flush();
                byte[] received = peer.stream.get(30, TimeUnit.SECONDS);
                assertArrayEquals(sent, received, "the byte stream rebuilt from the segments");
            }
            assertEquals(0, peer.badSegments.get(), "segments over the MTU or with a wrong checksum");
            assertTrue(reads.superPackets.get() > 0, "the kernel sent super-packets (reads: " + reads + ")");
            assertTrue(peer.dataSegments.get() >= STREAM / peer.mss, "at least one segment per MSS: " + peer.dataSegments);
            assertEquals(0, segmentation.dropCounters().total(), segmentation.dropCounters().toString());
        } finally {
            channel.close().sync();
        }
    }

    @Test
    void aUdpSocketsSegmentedSendArrivesAsDatagramsThroughTheCodecs() throws Exception {
        GsoReads reads = new GsoReads();
        VnetSegmentationHandler segmentation = new VnetSegmentationHandler();
        ChecksumCheck check = new ChecksumCheck();
        Datagrams datagrams = new Datagrams();
        TunChannel channel = bind(EnumSet.of(TunOffload.CSUM, TunOffload.USO4, TunOffload.USO6), "uso%d",
                reads, segmentation, new VnetHeaderEncoder(), check, new Ipv4Codec(), new UdpCodec(), datagrams);
        Channel sender = null;
        try {
            assumeTrue(channel.config().getAppliedOffloads().contains(TunOffload.USO4), "USO needs Linux 6.2+");
            configure(channel);
            int segment = 1200;
            byte[] payload = new byte[4 * segment - 100];
            new Random(7).nextBytes(payload);
            sender = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(KERNEL, 0)).sync().channel();
            sender.writeAndFlush(new SegmentedDatagramPacket(Unpooled.wrappedBuffer(payload), segment,
                    new InetSocketAddress(APP, 6000))).sync();
            for (int i = 0; i < 4; i++) {
                byte[] datagram = datagrams.queue.poll(10, TimeUnit.SECONDS);
                assertNotNull(datagram, "datagram " + i);
                assertArrayEquals(Arrays.copyOfRange(payload, i * segment, Math.min(payload.length, (i + 1) * segment)),
                        datagram, "datagram " + i);
            }
            assertEquals(1, reads.usoReads.get(), "the four came in one USO read");
            assertEquals(0, check.bad.get(), "segments with a wrong checksum");
            assertEquals(0, segmentation.dropCounters().total(), segmentation.dropCounters().toString());
        } finally {
            if (sender != null) {
                sender.close().sync();
            }
            channel.close().sync();
        }
    }

    private TunChannel bind(EnumSet<TunOffload> offloads, String name, io.netty.channel.ChannelHandler... handlers)
            throws InterruptedException {
        return NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, false)
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, offloads)
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(handlers))), name);
    }

    private static void configure(TunChannel channel) throws Exception {
        String name = channel.localAddress().name();
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setIpv4Address(name, KERNEL, PREFIX);
        interfaces.addIpv6Address(name, KERNEL6, 64);
        interfaces.setUp(name, true);
    }

    /**
     * A TCP socket bound to {@code local}. A new IPv6 address may become usable only after the
     * link is up and its duplicate address detection is done (binding fails with EADDRNOTAVAIL
     * until then), so this retries for up to five seconds.
     */
    private static Socket boundSocket(InetAddress local) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            Socket socket = new Socket();
            // Closed with a reset: a FIN nobody answers once the channel is gone would be
            // retransmitted for seconds, into whichever later test's device has these addresses.
            socket.setSoLinger(true, 0);
            try {
                socket.bind(new InetSocketAddress(local, 0));
                return socket;
            } catch (BindException notYetUsable) {
                socket.close();
                if (System.nanoTime() - deadline > 0) {
                    throw notYetUsable;
                }
                Thread.sleep(10);
            }
        }
    }

    private static Inet6Address v6(String text) {
        try {
            return (Inet6Address) InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** In front of the segmentation: counts the reads that were super-packets. */
    private static final class GsoReads extends ChannelInboundHandlerAdapter {
        final AtomicInteger superPackets = new AtomicInteger();
        final AtomicInteger usoReads = new AtomicInteger();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf read = (ByteBuf) msg;
            if (VirtioNetHeader.isGso(read, read.readerIndex())) {
                superPackets.incrementAndGet();
                if (VirtioNetHeader.gsoProtocol(read, read.readerIndex()) == VirtioNetHeader.GSO_UDP_L4) {
                    usoReads.incrementAndGet();
                }
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public String toString() {
            return superPackets + " super-packets";
        }
    }

    /** Behind the segmentation: checks every packet's checksums (an oracle of its own), passes it on. */
    private static final class ChecksumCheck extends ChannelInboundHandlerAdapter {
        final AtomicInteger bad = new AtomicInteger();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            byte[] bytes = ByteBufUtil.getBytes(packet);
            if (InetPackets.version(bytes) == 4 && InetPackets.protocol(bytes) == InetPackets.PROTOCOL_UDP
                    && (!InetPackets.checksumsValid(bytes) || bytes.length > MTU)) {
                bad.incrementAndGet();
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** The UDP codec's datagrams to port 6000, their payloads copied. */
    private static final class Datagrams extends ChannelInboundHandlerAdapter {
        final BlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DatagramPacket datagram && datagram.recipient().getPort() == 6000) {
                    queue.add(ByteBufUtil.getBytes(datagram.content()));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    /**
     * The far end of the kernel's TCP connection, on the event loop: answers the SYN (MSS for
     * the MTU, window scaling, no timestamps or SACK), checks each data segment, rebuilds the
     * stream from in-order bytes (a retransmission must repeat what came before) and acknowledges
     * them at once, so the kernel's window opens and it sends super-packets.
     */
    private static final class TcpPeer extends ChannelInboundHandlerAdapter {
        final CompletableFuture<byte[]> stream = new CompletableFuture<>();
        final AtomicInteger badSegments = new AtomicInteger();
        final AtomicInteger dataSegments = new AtomicInteger();
        final int mss;
        private final byte[] self;
        private final byte[] kernel;
        private final byte[] received = new byte[STREAM];
        private int contiguous;
        private int clientPort = -1;
        private long clientIsn;
        private final long isn = 0x7000_0000L;

        TcpPeer(byte[] self, byte[] kernel, int mss) {
            this.self = self;
            this.kernel = kernel;
            this.mss = mss;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            byte[] p;
            try {
                p = ByteBufUtil.getBytes(packet);
            } finally {
                packet.release();
            }
            if (InetPackets.version(p) != (self.length == 4 ? 4 : 6) || InetPackets.protocol(p) != InetPackets.PROTOCOL_TCP
                    || InetPackets.destinationPort(p) != PORT) {
                return; // neighbour discovery and the like
            }
            if (!InetPackets.checksumsValid(p) || p.length > MTU) {
                badSegments.incrementAndGet();
                return;
            }
            int flags = InetPackets.tcpFlags(p);
            if ((flags & 0x02) != 0) { // SYN: answer with SYN-ACK, MSS and window scale 7
                clientPort = InetPackets.sourcePort(p);
                clientIsn = InetPackets.tcpSeq(p);
                byte[] options = {2, 4, (byte) (mss >>> 8), (byte) mss, 1, 3, 3, 7};
                send(ctx, isn, 0x12, options);
                return;
            }
            byte[] data = InetPackets.payload(p);
            if (data.length == 0 || InetPackets.sourcePort(p) != clientPort) {
                return;
            }
            dataSegments.incrementAndGet();
            if (data.length > mss) {
                badSegments.incrementAndGet();
            }
            int offset = (int) ((InetPackets.tcpSeq(p) - clientIsn - 1) & 0xFFFF_FFFFL);
            if (offset <= contiguous && offset + data.length > contiguous && offset + data.length <= STREAM) {
                int overlap = contiguous - offset;
                if (!Arrays.equals(data, 0, overlap, received, offset, contiguous)) {
                    stream.completeExceptionally(new AssertionError("a retransmission differs at " + offset));
                }
                System.arraycopy(data, overlap, received, contiguous, data.length - overlap);
                contiguous = offset + data.length;
            }
            send(ctx, isn + 1, 0x10, new byte[0]);
            if (contiguous == STREAM) {
                stream.complete(received);
            }
        }

        private void send(ChannelHandlerContext ctx, long seq, int flags, byte[] options) {
            byte[] segment = InetPackets.tcp(self, kernel, PORT, clientPort, seq, clientIsn + 1 + contiguous, flags, 0,
                    options, new byte[0]);
            ctx.writeAndFlush(ctx.alloc().directBuffer(segment.length).writeBytes(segment));
        }
    }
}
