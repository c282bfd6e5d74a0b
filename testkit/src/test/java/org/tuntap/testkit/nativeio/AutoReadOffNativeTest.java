package org.tuntap.testkit.nativeio;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * Auto-read off on the epoll loop: between reads the channel has no interest in its fd, and
 * asking again must work (Netty 4.2.18 drops an fd whose interest becomes empty from epoll, and
 * then fails the next change with ENOENT unless the layer avoids the empty mask).
 */
@Tag("netns")
class AutoReadOffNativeTest {
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
    void everyReadTakesOnePacketAndADeletedDeviceIsReportedOnTheNextRead() throws Exception {
        Recorder recorder = new Recorder();
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, false)
                .option(ChannelOption.AUTO_READ, false).handler(recorder), "aroff%d");
        String name = channel.localAddress().name();
        NativeDevices.connect(channel);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(KERNEL, 0))) {
            for (int i = 1; i <= 3; i++) {
                channel.read(); // interest on, one packet, interest off: three times over
                byte[] payload = Pipelines.payload(i);
                socket.send(new DatagramPacket(payload, payload.length, new InetSocketAddress(APP, 9)));
                assertNotNull(recorder.packets.poll(5, TimeUnit.SECONDS), "read() number " + i + " got nothing");
            }
            assertTrue(recorder.failure.getNow(null) == null, "no failure while reading");

            Ip.ip("link", "del", "dev", name);
            channel.read(); // the first look at the fd since the device went
            assertTrue(channel.closeFuture().await(5, TimeUnit.SECONDS), "the channel did not close");
            ErrnoException cause = assertInstanceOf(ErrnoException.class, recorder.failure.get(5, TimeUnit.SECONDS));
            assertEquals(Errno.EBADFD, cause.errno(), cause.getMessage());
        } finally {
            channel.close().sync();
        }
    }

    /** Counts packets (releasing them) and keeps the first failure. */
    private static final class Recorder extends ChannelInboundHandlerAdapter {
        final BlockingQueue<Integer> packets = new LinkedBlockingQueue<>();
        final CompletableFuture<Throwable> failure = new CompletableFuture<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            packets.add(packet.readableBytes());
            packet.release();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failure.complete(cause);
        }
    }
}
