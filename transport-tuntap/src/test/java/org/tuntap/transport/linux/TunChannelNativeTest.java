package org.tuntap.transport.linux;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunBindException;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoctl;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TunChannel} on the native layer and Netty's epoll loop, against the real kernel. The
 * same tests run on the io_uring loop in {@link TunChannelIoUringTest}.
 */
@Tag("netns")
class TunChannelNativeTest {
    private static final byte[] LOCAL = {(byte) 192, 0, 2, 1};
    private static final byte[] PEER = {(byte) 192, 0, 2, 2};

    MultiThreadIoEventLoopGroup group;

    /** The kind of event loop the channels run on. */
    IoHandlerFactory ioHandlerFactory() {
        return EpollIoHandler.newFactory();
    }

    @BeforeEach
    void loopGroup() {
        Netns.require();
        LinuxTun.ensureAvailability();
        group = new MultiThreadIoEventLoopGroup(1, ioHandlerFactory());
    }

    @AfterEach
    void shutdown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void udpEchoThroughTheChannelWithoutPacketInfo() throws Exception {
        echoThroughChannel(false);
    }

    @Test
    void udpEchoThroughTheChannelWithPacketInfo() throws Exception {
        echoThroughChannel(true);
    }

    private void echoThroughChannel(boolean packetInfo) throws Exception {
        PacketCollector collector = new PacketCollector();
        Channel channel = bootstrap(collector).option(TunChannelOption.PACKET_INFO, packetInfo)
                .bind(new TunAddress("chan%d")).sync().channel();
        try (DatagramSocket socket = new DatagramSocket(null)) {
            String name = ((TunChannel) channel).localAddress().name();
            assertTrue(name.matches("chan\\d+"), name);
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            interfaces.setIpv4Address(name, (Inet4Address) InetAddress.getByAddress(LOCAL), 24);
            interfaces.setUp(name, true);
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
            socket.setSoTimeout(5000);

            byte[] payload = "ping through TunChannel".getBytes();
            socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByAddress(PEER), 5555));
            byte[] packet = collector.nextUdpTo(5555, packetInfo);
            assertNotNull(packet, "the channel read no UDP packet");
            assertArrayEquals(payload, Ipv4Udp.udpPayload(packet));

            byte[] reply = Ipv4Udp.build(PEER, 5555, LOCAL, socket.getLocalPort(), "pong".getBytes());
            ByteBuf out = Unpooled.directBuffer();
            if (packetInfo) {
                out.writeShort(0).writeShort(0x0800); // flags, then the ethertype of IPv4
            }
            out.writeBytes(reply);
            channel.writeAndFlush(out).sync();
            DatagramPacket received = new DatagramPacket(new byte[100], 100);
            socket.receive(received);
            assertEquals("pong", new String(received.getData(), 0, received.getLength()));
            assertEquals(new InetSocketAddress(InetAddress.getByAddress(PEER), 5555), received.getSocketAddress());
        } finally {
            channel.close().sync();
        }
        String name = ((TunChannel) channel).localAddress().name();
        // On io_uring the fd closes just after the close completes: once the ring is done with it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (Commands.linkExists(name) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertFalse(Commands.linkExists(name), "closing removed the device");
    }

    @Test
    void failedBindsSayWhyAndLeaveNoFdOpen() throws Exception {
        Channel holder = bootstrap(new PacketCollector()).bind(new TunAddress("held0")).sync().channel();
        try {
            long fdsBefore = openTunFds();
            TunBindException exclusive = bindFailure(bootstrap(new PacketCollector())
                    .option(TunChannelOption.EXCLUSIVE, true), "held0");
            assertEquals(Errno.EBUSY, exclusive.errno(), exclusive.getMessage());
            assertTrue(exclusive.getMessage().contains("held0"), exclusive.getMessage());

            TunBindException badName = bindFailure(bootstrap(new PacketCollector()), "bad name");
            assertEquals(Errno.EINVAL, badName.errno(), badName.getMessage());

            TunBindException otherMode = bindFailure(bootstrap(new PacketCollector())
                    .option(TunChannelOption.MODE, TunMode.TAP), "held0");
            assertEquals(Errno.EINVAL, otherMode.errno(), otherMode.getMessage());

            TunBindException queueMismatch = bindFailure(bootstrap(new PacketCollector())
                    .option(TunChannelOption.MULTI_QUEUE, true), "held0");
            assertEquals(Errno.EINVAL, queueMismatch.errno(), queueMismatch.getMessage());

            assertEquals(fdsBefore, openTunFds(), "fds left open by failed binds");
        } finally {
            holder.close().sync();
        }
    }

    @Test
    void twoMultiQueueChannelsShareOneDevice() throws Exception {
        Channel first = bootstrap(new PacketCollector()).option(TunChannelOption.MULTI_QUEUE, true)
                .bind(new TunAddress("mqchan0")).sync().channel();
        try {
            Channel second = bootstrap(new PacketCollector()).option(TunChannelOption.MULTI_QUEUE, true)
                    .bind(new TunAddress("mqchan0")).sync().channel();
            try {
                assertEquals(first.localAddress(), second.localAddress());
                String link = Commands.ip("-d", "-j", "link", "show", "dev", "mqchan0");
                assertTrue(link.contains("\"multi_queue\":true,\"numqueues\":2"), link);
            } finally {
                second.close().sync();
            }
            assertTrue(Commands.ip("-d", "-j", "link", "show", "dev", "mqchan0").contains("\"numqueues\":1"));
        } finally {
            first.close().sync();
        }
    }

    @Test
    void deletingTheDeviceClosesTheChannelWithTheCause() throws Exception {
        long fdsBefore = openTunFds();
        PacketCollector collector = new PacketCollector();
        Channel channel = bootstrap(collector).bind(new TunAddress("gone%d")).sync().channel();
        String name = ((TunChannel) channel).localAddress().name();
        LinuxTun.interfaces().setUp(name, true);
        assertEquals(fdsBefore + 1, openTunFds(), "the bound channel holds one fd");

        Commands.ip("link", "del", "dev", name);
        assertTrue(channel.closeFuture().await(5, TimeUnit.SECONDS), "the channel did not close");
        Throwable cause = collector.failure.get(5, TimeUnit.SECONDS);
        ErrnoException errno = assertInstanceOf(ErrnoException.class, cause);
        assertEquals(Errno.EBADFD, errno.errno(), errno.getMessage());
        assertEquals(-1, ((TunChannel) channel).fd());
        awaitTunFds(fdsBefore, "the device fd was closed");
    }

    Bootstrap bootstrap(PacketCollector collector) {
        return new Bootstrap().group(group)
                .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                .handler(collector);
    }

    private static TunBindException bindFailure(Bootstrap bootstrap, String name) throws InterruptedException {
        ChannelFuture bind = bootstrap.bind(new TunAddress(name)).await();
        assertFalse(bind.isSuccess(), "bind to " + name + " succeeded");
        assertTrue(bind.channel().closeFuture().await(5, TimeUnit.SECONDS));
        return assertInstanceOf(TunBindException.class, bind.cause());
    }

    /**
     * The fds of this JVM open on /dev/net/tun. (Counting all fds is noisy: the JDK keeps
     * directory and subprocess fds of its own for a while.)
     */
    /** Waits (up to 5 s) for this JVM's /dev/net/tun fds to number {@code expected}. */
    static void awaitTunFds(long expected, String message) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (openTunFds() != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(expected, openTunFds(), message);
    }

    static long openTunFds() throws Exception {
        try (Stream<Path> fds = Files.list(Paths.get("/proc/self/fd"))) {
            return fds.filter(TunChannelNativeTest::isTunFd).count();
        }
    }

    private static boolean isTunFd(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString().equals(TunIoctl.DEVICE_PATH);
        } catch (Exception e) {
            return false; // closed while listing
        }
    }

    /** Copies every packet the channel reads (releasing the buffer), and keeps the first failure. */
    static final class PacketCollector extends ChannelInboundHandlerAdapter {
        final BlockingQueue<byte[]> packets = new LinkedBlockingQueue<>();
        final CompletableFuture<Throwable> failure = new CompletableFuture<>();
        final AtomicInteger readCompletes = new AtomicInteger();

        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            try {
                packets.add(ByteBufUtil.getBytes(packet));
            } finally {
                packet.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readCompletes.incrementAndGet();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failure.complete(cause);
        }

        /** The next IPv4 UDP packet to {@code port}, after the PI header if there is one. */
        byte[] nextUdpTo(int port, boolean packetInfo) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            for (;;) {
                byte[] packet = packets.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (packet == null) {
                    return null;
                }
                if (packetInfo) {
                    int proto = ((packet[2] & 0xFF) << 8) | (packet[3] & 0xFF);
                    if (proto != 0x0800) {
                        continue;
                    }
                    assertEquals(0, packet[0] | packet[1], "PI flags (TUN_PKT_STRIP would mean truncated)");
                    packet = Arrays.copyOfRange(packet, TunIoctl.PI_HEADER_LENGTH, packet.length);
                }
                if (Ipv4Udp.version(packet) == 4 && Ipv4Udp.protocol(packet) == Ipv4Udp.PROTOCOL_UDP
                        && Ipv4Udp.destinationPort(packet) == port) {
                    return packet;
                }
            }
        }
    }
}
