package org.tuntap.testkit.nativeio;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.vnet.CoalescingHandler;
import org.tuntap.codec.vnet.GsoOffload;
import org.tuntap.codec.vnet.VnetSegmentationHandler;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.TunOffload;

import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * The coalescing handler against the real kernel: the datagrams the UDP codec writes in one
 * flush leave the channel as one USO super-packet, and a kernel UDP socket receives every one
 * of them, byte for byte and in order; TCP segments written in one flush into an established
 * kernel TCP connection leave as one TSO super-packet, and the kernel's socket reads the bytes.
 * The fused path's echo merges as it writes, on TUN and on TAP.
 */
@Tag("netns")
class CoalescingNativeTest {
    private static final int DATAGRAMS = 40;
    private static final InetSocketAddress FROM = new InetSocketAddress(APP, 7);
    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");

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

    @Test
    void datagramsOfOneFlushLeaveAsOneWriteAndArriveByteForByteInOrder() throws Exception {
        CoalescingHandler coalescer = new CoalescingHandler(Set.of());
        TunChannel channel = usoChannel(coalescer, true, coalescer, new Ipv4Codec(), new UdpCodec(FROM));
        try (DatagramSocket socket = kernelSocket()) {
            InetSocketAddress to = (InetSocketAddress) socket.getLocalSocketAddress();
            long writtenBefore = packetsWritten(channel);
            channel.eventLoop().submit(() -> {
                for (int i = 0; i < DATAGRAMS; i++) {
                    byte[] payload = payload(i);
                    ByteBuf content = channel.alloc().directBuffer(payload.length).writeBytes(payload);
                    channel.write(new DatagramPacket(content, to));
                }
                channel.flush();
            }).sync();
            receiveEveryDatagramInOrder(socket);
            long writes = packetsWritten(channel) - writtenBefore;
            assertEquals(1, writes, DATAGRAMS + " datagrams in one USO write");
        } finally {
            channel.close().sync();
        }
    }

    /**
     * The fused path's echo (VnetSegmentationHandler and the coalescer under the codecs): the
     * datagrams a kernel socket sent, read in one batch, are echoed into USO super-packets as
     * they are written, and the socket gets every one back, byte for byte, in order.
     */
    @Test
    void anEchoedReadBatchLeavesMergedAndTheKernelsSocketGetsEveryDatagramBack() throws Exception {
        CoalescingHandler coalescer = new CoalescingHandler(Set.of());
        // Auto-read off: the datagrams queue in the device until all are sent, then are read in one batch.
        TunChannel channel = usoChannel(coalescer, false, new VnetSegmentationHandler(), coalescer, new Ipv4Codec(),
                new UdpCodec(), new Echo());
        try (DatagramSocket socket = kernelSocket()) {
            echoOneReadBatch(channel, socket);
        } finally {
            channel.close().sync();
        }
    }

    /**
     * The same on a TAP device, Ethernet and ARP under the IP layers: the echoes leave as USO
     * super-packets behind one Ethernet header, and the socket gets every datagram back.
     */
    @Test
    void onTapAnEchoedReadBatchLeavesMergedBehindOneEthernetHeaderAndEveryDatagramComesBack() throws Exception {
        CoalescingHandler coalescer = CoalescingHandler.forEthernet(Set.of());
        TunChannel channel = usoChannel(TunMode.TAP, coalescer, true, VnetSegmentationHandler.forEthernet(), coalescer,
                new EthernetCodec(), new ArpHandler(APP_MAC, List.of(APP)), new Ipv4Codec(), new UdpCodec(), new Echo());
        try (DatagramSocket socket = kernelSocket()) {
            // One datagram first: the kernel resolves APP by ARP, and the ArpHandler learns the
            // kernel's MAC from its request, so the batch after it goes on the fused path.
            byte[] first = payload(0);
            socket.send(new java.net.DatagramPacket(first, first.length, FROM));
            java.net.DatagramPacket echoed = new java.net.DatagramPacket(new byte[2000], 2000);
            socket.receive(echoed);
            assertEquals(first.length, echoed.getLength());
            channel.eventLoop().submit(() -> channel.config().setAutoRead(false)).sync();
            echoOneReadBatch(channel, socket);
        } finally {
            channel.close().sync();
        }
    }

    /**
     * With the channel's auto-read off, sends {@link #DATAGRAMS} datagrams from the socket (they
     * queue in the device), turns auto-read on so that they are read in one batch, and asserts
     * every echo comes back in order and the echoes left in one or two writes (the kernel may
     * hand the batch over in two).
     */
    private static void echoOneReadBatch(TunChannel channel, DatagramSocket socket) throws Exception {
        for (int i = 0; i < DATAGRAMS; i++) {
            byte[] payload = payload(i);
            socket.send(new java.net.DatagramPacket(payload, payload.length, FROM));
        }
        long writtenBefore = packetsWritten(channel);
        channel.config().setAutoRead(true);
        receiveEveryDatagramInOrder(socket);
        long writes = packetsWritten(channel) - writtenBefore;
        assertTrue(writes >= 1 && writes <= 2, DATAGRAMS + " echoes in " + writes + " writes");
    }

    private TunChannel usoChannel(CoalescingHandler coalescer, boolean autoRead, ChannelHandler... handlers)
            throws Exception {
        return usoChannel(TunMode.TUN, coalescer, autoRead, handlers);
    }

    /**
     * A channel with VNET_HDR and every offload and {@code handlers} (the coalescer among them),
     * its device up; the test is skipped unless the kernel took USO4, which the coalescer is then
     * told it may use.
     */
    private TunChannel usoChannel(TunMode mode, CoalescingHandler coalescer, boolean autoRead, ChannelHandler... handlers)
            throws Exception {
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, mode, false)
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, EnumSet.allOf(TunOffload.class))
                .option(ChannelOption.AUTO_READ, autoRead)
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(handlers))), "gro%d");
        Set<GsoOffload> applied = GsoOffload.fromNames(channel.config().getAppliedOffloads());
        if (!applied.contains(GsoOffload.USO4)) {
            channel.close().sync();
        }
        assumeTrue(applied.contains(GsoOffload.USO4), "USO needs Linux 6.2+; applied: " + applied);
        coalescer.setOffloads(applied);
        NativeDevices.connect(channel);
        return channel;
    }

    /**
     * The channel's written packets, read on its event loop: the kernel delivers a written
     * datagram within the write call, so the socket may have it before the count is updated.
     */
    private static long packetsWritten(TunChannel channel) throws Exception {
        return channel.eventLoop().submit(() -> channel.counters().packetsWritten()).get();
    }

    /** A kernel UDP socket on the device's side, 10 s receive timeout, room for every datagram. */
    private static DatagramSocket kernelSocket() throws Exception {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(KERNEL, 0));
        socket.setSoTimeout(10_000);
        socket.setReceiveBufferSize(1 << 20);
        return socket;
    }

    /** Receives {@link #DATAGRAMS} datagrams from {@link #FROM}, each {@link #payload} in order. */
    private static void receiveEveryDatagramInOrder(DatagramSocket socket) throws Exception {
        for (int i = 0; i < DATAGRAMS; i++) {
            byte[] buffer = new byte[2000];
            java.net.DatagramPacket received = new java.net.DatagramPacket(buffer, buffer.length);
            socket.receive(received);
            assertArrayEquals(payload(i), Arrays.copyOf(buffer, received.getLength()), "datagram " + i);
            assertEquals(FROM, received.getSocketAddress());
        }
    }

    /** Echoes each datagram to its sender, flushing once per read batch. */
    private static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ctx.write(new DatagramPacket(packet.content().retain(), packet.sender(), packet.recipient()), ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    @Test
    void tcpSegmentsOfOneFlushLeaveAsOneWriteAndTheKernelsSocketReadsThem() throws Exception {
        CoalescingHandler coalescer = new CoalescingHandler(Set.of());
        KernelTcpPeer peer = new KernelTcpPeer();
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, false)
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, EnumSet.allOf(TunOffload.class))
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(coalescer, peer.reader()))), "gro%d");
        try (Socket client = new Socket()) {
            Set<GsoOffload> applied = GsoOffload.fromNames(channel.config().getAppliedOffloads());
            assumeTrue(applied.contains(GsoOffload.TSO4), "applied: " + applied);
            coalescer.setOffloads(applied);
            NativeDevices.connect(channel);
            client.bind(new InetSocketAddress(KERNEL, 0));
            peer.accept(channel, client);

            // Ten segments in one flush (well inside the kernel's initial receive window).
            byte[] data = new byte[10 * 1000];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 13 + i / 1000);
            }
            long writtenBefore = packetsWritten(channel);
            channel.eventLoop().submit(() -> {
                for (int i = 0; i < 10; i++) {
                    int flags = TcpHeader.ACK | (i == 9 ? TcpHeader.PSH : 0);
                    byte[] segment = peer.segment(flags, Arrays.copyOfRange(data, i * 1000, i * 1000 + 1000));
                    channel.write(channel.alloc().directBuffer(segment.length).writeBytes(segment));
                }
                channel.flush();
            }).sync();
            client.setSoTimeout(10_000);
            InputStream in = client.getInputStream();
            assertArrayEquals(data, in.readNBytes(data.length), "what the kernel's socket read");
            assertEquals(1, packetsWritten(channel) - writtenBefore, "ten segments in one TSO write");
        } finally {
            channel.close().sync();
        }
    }

    /** Datagram {@code i}: 1200 numbered bytes, the last one shorter. */
    private static byte[] payload(int i) {
        byte[] payload = new byte[i == DATAGRAMS - 1 ? 333 : 1200];
        for (int j = 0; j < payload.length; j++) {
            payload[j] = (byte) (i * 31 + j);
        }
        return payload;
    }
}
