package org.tuntap.transport.linux;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
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
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TAP;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;

/**
 * {@code ip link set DEV down} under an open fd: the kernel fails writes with EIO while the
 * device still exists (a deleted device gives EBADFD instead, see {@link DeviceDeletionTest}),
 * and takes them again once the link is up. A channel drops such packets and stays open.
 */
@Tag("netns")
class LinkDownTest {
    private static final byte[] LOCAL = {(byte) 192, 0, 2, 1};
    private static final byte[] PEER = {(byte) 192, 0, 2, 2};

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
    void theKernelFailsWritesWithEioWhileTheLinkIsDown() throws Exception {
        for (int flags : new int[] {IFF_TUN | IFF_NO_PI, IFF_TAP | IFF_NO_PI}) {
            try (TunFd tun = TunFd.attach("down%d", flags)) {
                ByteBuf packet = Unpooled.directBuffer();
                try {
                    packet.writeBytes((flags & IFF_TAP) != 0 ? ethernet(udp()) : udp());
                    ErrnoException neverUp = assertThrows(ErrnoException.class, () -> tun.io.write(tun.fd, packet));
                    assertEquals(Errno.EIO, neverUp.errno(), neverUp.getMessage());

                    Commands.ip("link", "set", "dev", tun.name, "up");
                    assertEquals(packet.readableBytes(), tun.io.write(tun.fd, packet));
                    Commands.ip("link", "set", "dev", tun.name, "down");
                    ErrnoException down = assertThrows(ErrnoException.class, () -> tun.io.write(tun.fd, packet));
                    assertEquals(Errno.EIO, down.errno(), down.getMessage());
                    assertTrue(down.getMessage().contains("link is down"), down.getMessage());
                    assertReadDoesNotFail(tun); // reads go on: a packet queued before, or EAGAIN
                    Commands.ip("link", "set", "dev", tun.name, "up");
                    assertEquals(packet.readableBytes(), tun.io.write(tun.fd, packet), "writes work again once up");
                } finally {
                    packet.release();
                }
            }
        }
    }

    @Test
    void aChannelDropsWhatItWritesWhileTheLinkIsDownAndCarriesOnWhenItIsUp() throws Exception {
        TunChannel channel = (TunChannel) new Bootstrap().group(group)
                .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                .handler(new ChannelInboundHandlerAdapter())
                .bind(new TunAddress("down%d")).sync().channel();
        try (DatagramSocket socket = new DatagramSocket(null)) {
            String name = channel.localAddress().name();
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            interfaces.setIpv4Address(name, (Inet4Address) InetAddress.getByAddress(LOCAL), 24);
            interfaces.setUp(name, true);
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(LOCAL), 0));
            socket.setSoTimeout(5000);

            interfaces.setUp(name, false);
            ChannelFuture dropped = channel.writeAndFlush(reply(socket.getLocalPort(), "lost")).await();
            ErrnoException cause = assertInstanceOf(ErrnoException.class, dropped.cause());
            assertEquals(Errno.EIO, cause.errno(), cause.getMessage());
            channel.eventLoop().submit(() -> { }).sync(); // the loop has finished with the failed write
            assertTrue(channel.isOpen(), "a link that goes down must not close the channel");
            assertEquals(1, channel.droppedWrites());

            interfaces.setUp(name, true);
            channel.writeAndFlush(reply(socket.getLocalPort(), "back")).sync();
            DatagramPacket received = new DatagramPacket(new byte[100], 100);
            socket.receive(received);
            assertEquals("back", new String(received.getData(), 0, received.getLength()));
            assertEquals(1, channel.droppedWrites());
        } finally {
            channel.close().sync();
        }
    }

    private static void assertReadDoesNotFail(TunFd tun) {
        ByteBuf buffer = Unpooled.directBuffer(2048);
        try {
            tun.io.read(tun.fd, buffer, 2048);
        } catch (ErrnoException e) {
            assertTrue(e.isWouldBlock(), e.getMessage());
        } finally {
            buffer.release();
        }
    }

    /** A UDP datagram from the peer to the socket on LOCAL, as the channel would write it. */
    private static ByteBuf reply(int port, String text) {
        return Unpooled.directBuffer().writeBytes(Ipv4Udp.build(PEER, 5555, LOCAL, port, text.getBytes()));
    }

    private static byte[] udp() {
        return Ipv4Udp.build(PEER, 1, LOCAL, 2, new byte[8]);
    }

    private static byte[] ethernet(byte[] ipv4) {
        byte[] frame = new byte[14 + ipv4.length];
        frame[0] = (byte) 0xff; // broadcast destination
        frame[1] = (byte) 0xff;
        frame[2] = (byte) 0xff;
        frame[3] = (byte) 0xff;
        frame[4] = (byte) 0xff;
        frame[5] = (byte) 0xff;
        frame[6] = 0x02; // a local source MAC
        frame[12] = 0x08; // IPv4
        System.arraycopy(ipv4, 0, frame, 14, ipv4.length);
        return frame;
    }
}
