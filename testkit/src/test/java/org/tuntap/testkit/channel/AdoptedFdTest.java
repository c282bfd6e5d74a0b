package org.tuntap.testkit.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.tuntap.testkit.MemoryIoHandler;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.Tunnel;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A channel adopting a tunnel the test opened and configured itself, as an unprivileged process
 * adopts the fd a privileged helper passed it: settings learnt from TUNGETIFF, the fd made
 * non-blocking and close-on-exec, registered with {@code Bootstrap.register()}, closed (or not)
 * with the channel.
 */
class AdoptedFdTest {
    private EventLoopGroup group;
    private final MemoryIoSystem system = new MemoryIoSystem();

    @BeforeEach
    void startGroup() {
        group = new MultiThreadIoEventLoopGroup(1, MemoryIoHandler.newFactory());
    }

    @AfterEach
    void stopGroup() throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }

    /** What a privileged opener does: a blocking fd without close-on-exec, attached to a device. */
    private int openedElsewhere(String name, int flags) throws ErrnoException {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR);
        system.ioctl(fd, TunIoctl.TUNSETIFF, Ifreq.encode(name, flags));
        return fd;
    }

    private Bootstrap bootstrap(int fd, ChannelInboundHandlerAdapter handler) {
        return new Bootstrap().group(group).channelFactory(() -> new TunChannel(system, fd)).handler(handler);
    }

    @Test
    void learnsTheDeviceFromTheKernelAndEchoesOnceRegistered() throws Exception {
        int fd = openedElsewhere("tap3", TunIoctl.IFF_TAP); // PI on: no IFF_NO_PI
        Tunnel tunnel = system.tunnel(fd);
        assertTrue(tunnel.blocking());
        ActiveEcho echo = new ActiveEcho();

        // TUNGETIFF cannot tell PI on from IFF_NO_PI (its 0x1000 is also IFF_NOFILTER): say so.
        TunChannel channel = (TunChannel) bootstrap(fd, echo).option(TunChannelOption.PACKET_INFO, true)
                .register().sync().channel();

        assertTrue(channel.isAdopted());
        assertEquals(fd, channel.fd());
        assertEquals(new TunAddress("tap3"), channel.localAddress());
        assertEquals(TunMode.TAP, channel.config().getMode());
        assertTrue(channel.config().isPacketInfo());
        assertThrows(IllegalStateException.class, () -> channel.config().setPacketInfo(false),
                "packet information is fixed once registered");
        assertFalse(tunnel.blocking(), "made non-blocking");
        assertTrue(tunnel.closeOnExec(), "made close-on-exec");
        assertTrue(echo.active.await(5, TimeUnit.SECONDS), "channelActive fired at registration");

        byte[] frame = Packets.ipv4Like(60, 1);
        tunnel.addRawToReadBuffer(frame);
        assertTrue(tunnel.awaitWritten(1, 5, TimeUnit.SECONDS));
        byte[] written = tunnel.takeWritten(); // the packet as read: the PI header, then the frame
        assertEquals(TunIoctl.PI_HEADER_LENGTH + frame.length, written.length);
        assertArrayEquals(frame, Arrays.copyOfRange(written, TunIoctl.PI_HEADER_LENGTH, written.length));

        channel.close().sync();
        assertFalse(system.isOpen(fd), "closing the channel closed the adopted fd");
    }

    @Test
    void learnsTunWithoutPacketInformation() throws Exception {
        int fd = openedElsewhere("tun%d", TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI);
        TunChannel channel = new TunChannel(system, fd);
        assertEquals(new TunAddress("tun0"), channel.localAddress());
        assertEquals(TunMode.TUN, channel.config().getMode());
        assertFalse(channel.config().isPacketInfo());
        assertTrue(channel.isActive(), "active before registration, as Netty's channels on a bound fd");
        channel.unsafe().closeForcibly();
        assertFalse(system.isOpen(fd));
    }

    @Test
    void withCloseAdoptedFdOffTheFdOutlivesTheChannelAndCanBeAdoptedAgain() throws Exception {
        int fd = openedElsewhere("tun5", TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI);
        Channel first = bootstrap(fd, new ActiveEcho())
                .option(TunChannelOption.CLOSE_ADOPTED_FD, false)
                .register().sync().channel();
        first.close().sync();
        assertTrue(system.isOpen(fd), "the fd is still its owner's");

        ActiveEcho echo = new ActiveEcho();
        Channel second = bootstrap(fd, echo).register().sync().channel();
        byte[] packet = Packets.ipv4Like(40, 2);
        system.tunnel(fd).addToReadBuffer(packet);
        assertTrue(system.tunnel(fd).awaitWritten(1, 5, TimeUnit.SECONDS));
        assertArrayEquals(packet, system.tunnel(fd).takeWritten());
        second.close().sync();
        assertFalse(system.isOpen(fd));
    }

    @Test
    void bindToItsOwnNameIsAcceptedAndToAnotherRefused() throws Exception {
        int fd = openedElsewhere("tun6", TunIoctl.IFF_TUN | TunIoctl.IFF_NO_PI);
        Channel channel = bootstrap(fd, new ActiveEcho()).bind(new TunAddress("tun6")).sync().channel();
        assertEquals(new TunAddress("tun6"), channel.localAddress());
        assertEquals(1, system.tunnels().size(), "no second device opened");

        ChannelFuture other = channel.bind(new TunAddress("tun7")).await();
        assertInstanceOf(IllegalStateException.class, other.cause());
        assertTrue(other.cause().getMessage().contains("already bound to tun6"), other.cause().getMessage());
        assertTrue(channel.isActive(), "a refused bind leaves the channel as it was");
        channel.close().sync();
    }

    @Test
    void anFdWithoutADeviceIsRefusedAndLeftOpen() throws Exception {
        int fd = system.open(TunIoctl.DEVICE_PATH, OpenFlags.O_RDWR); // no TUNSETIFF
        ChannelException refused = assertThrows(ChannelException.class, () -> new TunChannel(system, fd));
        assertEquals(Errno.EBADFD, ((ErrnoException) refused.getCause()).errno());
        assertTrue(refused.getMessage().contains("TUNSETIFF first"), refused.getMessage());
        assertTrue(system.isOpen(fd), "the caller still owns the fd");
        system.close(fd);

        ChannelException closed = assertThrows(ChannelException.class, () -> new TunChannel(system, fd));
        assertEquals(Errno.EBADF, ((ErrnoException) closed.getCause()).errno());
    }

    /** Echoes packets, and says when the channel became active. */
    static final class ActiveEcho extends ChannelInboundHandlerAdapter {
        final CountDownLatch active = new CountDownLatch(1);

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            active.countDown();
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }
}
