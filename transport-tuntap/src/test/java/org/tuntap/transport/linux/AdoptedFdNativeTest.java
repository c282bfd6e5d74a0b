package org.tuntap.transport.linux;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@link TunChannel} adopting a device fd that was opened elsewhere (here: by the test, blocking
 * and inheritable, as a helper process would hand it over), and {@code .channel(TunChannel.class)},
 * against the real kernel.
 */
@Tag("netns")
class AdoptedFdNativeTest {
    private static final byte[] LOCAL = {(byte) 192, 0, 2, 1};
    private static final byte[] PEER = {(byte) 192, 0, 2, 2};
    /** {@code O_NONBLOCK} and {@code O_CLOEXEC} as /proc/self/fdinfo's octal "flags" show them. */
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;

    private MultiThreadIoEventLoopGroup group;
    private final TunIoSystem io = LinuxTun.ioSystem();

    @BeforeEach
    void epollGroup() {
        Netns.require();
        LinuxTun.ensureAvailability();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void shutdown() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** An fd as a plain {@code open(O_RDWR)} + {@code TUNSETIFF} leaves it: blocking, inheritable. */
    private int openedElsewhere(String name, int flags) throws Exception {
        int fd = io.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR);
        io.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode(name, flags));
        return fd;
    }

    private static int fdFlags(int fd) throws Exception {
        for (String line : Files.readAllLines(Paths.get("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
            }
        }
        throw new AssertionError("no flags in /proc/self/fdinfo/" + fd);
    }

    @Test
    void learnsNameModeAndPacketInformationFromTheKernel() throws Exception {
        int tun = openedElsewhere("adopt%d", TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI);
        int tap = openedElsewhere("adoptap0", TunIoctl.IFF_TAP);
        assertEquals(0, fdFlags(tun) & (O_NONBLOCK | O_CLOEXEC), "opened blocking and inheritable");
        TunChannel tunChannel = new TunChannel(io, tun);
        TunChannel tapChannel = new TunChannel(tap);
        try {
            assertEquals(new TunAddress("adopt0"), tunChannel.localAddress());
            assertEquals(TunMode.TUN, tunChannel.config().getMode());
            assertFalse(tunChannel.config().isPacketInfo(), "IFF_NO_PI read back from TUNGETIFF");
            assertEquals(new TunAddress("adoptap0"), tapChannel.localAddress());
            assertEquals(TunMode.TAP, tapChannel.config().getMode());
            // PI is on, but TUNGETIFF's 0x1000 is IFF_NOFILTER too (no socket filter here): the
            // channel takes the usual IFF_NO_PI until told otherwise, before registration.
            assertEquals(0x1000, TunFdControl.flags(io, tap) & 0x1000, "IFF_NOFILTER's bit, though PI is on");
            assertFalse(tapChannel.config().isPacketInfo());
            tapChannel.config().setPacketInfo(true);
            assertTrue(tapChannel.config().isPacketInfo());
            assertEquals(O_NONBLOCK | O_CLOEXEC, fdFlags(tun) & (O_NONBLOCK | O_CLOEXEC), "made non-blocking, close-on-exec");
            assertEquals(O_NONBLOCK | O_CLOEXEC, fdFlags(tap) & (O_NONBLOCK | O_CLOEXEC));
        } finally {
            tunChannel.unsafe().closeForcibly();
            tapChannel.unsafe().closeForcibly();
        }
        assertFalse(Files.exists(Paths.get("/proc/self/fd/" + tun)), "closing the channel closed the fd");
        assertFalse(Commands.linkExists("adopt0"));
    }

    @Test
    void anAdoptedFdRegistersAndCarriesUdpBothWays() throws Exception {
        int fd = openedElsewhere("adoptudp0", TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI);
        Collector collector = new Collector();
        Channel channel = new Bootstrap().group(group).channelFactory(() -> new TunChannel(fd))
                .handler(collector).register().sync().channel();
        TunChannel tun = (TunChannel) channel;
        try (DatagramSocket socket = new DatagramSocket(null)) {
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            interfaces.setIpv4Address("adoptudp0", (Inet4Address) InetAddress.getByAddress(LOCAL), 24);
            interfaces.setUp("adoptudp0", true);
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
            socket.setSoTimeout(5000);

            byte[] payload = "into the adopted fd".getBytes();
            socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByAddress(PEER), 5555));
            byte[] packet = collector.nextUdpTo(5555);
            assertArrayEquals(payload, Ipv4Udp.udpPayload(packet));

            byte[] reply = Ipv4Udp.build(PEER, 5555, LOCAL, socket.getLocalPort(), "out of it".getBytes());
            channel.writeAndFlush(channel.alloc().directBuffer().writeBytes(reply)).sync();
            DatagramPacket received = new DatagramPacket(new byte[100], 100);
            socket.receive(received);
            assertEquals("out of it", new String(received.getData(), 0, received.getLength()));

            assertEquals(1, tun.counters().packetsWritten());
            assertEquals(reply.length, tun.counters().bytesWritten());
            assertTrue(tun.counters().packetsRead() >= 1, tun.counters().toString());
            assertEquals(0, tun.counters().readErrors() + tun.counters().writeErrors());
        } finally {
            channel.close().sync();
        }
        assertFalse(Commands.linkExists("adoptudp0"), "closing the channel closed the last fd: the device went");
    }

    @Test
    void withCloseAdoptedFdOffTheFdStaysOpenAndAnotherChannelCanAdoptIt() throws Exception {
        int fd = openedElsewhere("adoptkeep0", TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI);
        try {
            Channel first = new Bootstrap().group(group).channelFactory(() -> new TunChannel(fd))
                    .option(TunChannelOption.CLOSE_ADOPTED_FD, false)
                    .handler(new Collector()).register().sync().channel();
            first.close().sync();
            assertEquals("adoptkeep0", TunFdControl.name(io, fd), "the fd is still open and attached");

            // Registering it again proves the first channel took it out of epoll (else EEXIST).
            Channel second = new Bootstrap().group(group).channelFactory(() -> new TunChannel(fd))
                    .option(TunChannelOption.CLOSE_ADOPTED_FD, false)
                    .handler(new Collector()).register().sync().channel();
            assertTrue(second.isActive());
            second.close().sync();
        } finally {
            io.close(fd);
        }
        assertFalse(Commands.linkExists("adoptkeep0"));
    }

    @Test
    void bootstrapChannelByClassUsesTheNativeLayer() throws Exception {
        Channel channel = new Bootstrap().group(group).channel(TunChannel.class)
                .handler(new Collector()).bind(new TunAddress("byclass%d")).sync().channel();
        try {
            assertEquals(new TunAddress("byclass0"), channel.localAddress());
            assertTrue(Commands.linkExists("byclass0"));
        } finally {
            channel.close().sync();
        }
    }

    /** Keeps the packets read (as arrays; the buffers are released). */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        final BlockingQueue<byte[]> packets = new LinkedBlockingQueue<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            try {
                packets.add(ByteBufUtil.getBytes(packet));
            } finally {
                packet.release();
            }
        }

        byte[] nextUdpTo(int port) throws InterruptedException {
            for (;;) {
                byte[] packet = packets.poll(5, TimeUnit.SECONDS);
                assertNotNull(packet, "no UDP packet to port " + port);
                if (Ipv4Udp.version(packet) == 4 && Ipv4Udp.protocol(packet) == Ipv4Udp.PROTOCOL_UDP
                        && Ipv4Udp.destinationPort(packet) == port) {
                    return packet;
                }
            }
        }
    }
}
