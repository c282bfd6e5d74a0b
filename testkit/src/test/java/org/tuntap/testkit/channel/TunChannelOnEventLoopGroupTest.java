package org.tuntap.testkit.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.tuntap.testkit.MemoryIoHandler;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.Tunnel;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same channel bootstrapped like any Netty channel on a real, threaded
 * {@link MultiThreadIoEventLoopGroup} over the in-memory layer: packets the test thread puts in
 * the tunnel wake the loop thread (no polling), and what the pipeline writes comes out.
 */
class TunChannelOnEventLoopGroupTest {
    private EventLoopGroup group;

    @BeforeEach
    void startGroup() {
        group = new MultiThreadIoEventLoopGroup(1, MemoryIoHandler.newFactory());
    }

    @AfterEach
    void stopGroup() throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }

    /**
     * Echoes every packet back as it came (the smallest pipeline that reads and writes) and hands
     * each completed write to the test thread, which blocks on it: no polling, no sleeps.
     */
    static final class PacketEcho extends ChannelInboundHandlerAdapter {
        final BlockingQueue<Boolean> completedWrites = new LinkedBlockingQueue<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg).addListener(f -> completedWrites.add(f.isSuccess()));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    @Test
    void bootstrapsBindsAndEchoesAcrossThreads() throws Exception {
        MemoryIoSystem system = new MemoryIoSystem();
        PacketEcho echo = new PacketEcho();
        Channel channel = new Bootstrap().group(group)
                .channelFactory(TunChannel.factory(system))
                .handler(echo)
                .bind(new TunAddress("tun%d")).sync().channel();
        assertEquals(new TunAddress("tun0"), channel.localAddress());
        Tunnel tunnel = system.tunnel(((TunChannel) channel).fd());

        for (int i = 0; i < 50; i++) {
            tunnel.addToReadBuffer(Packets.ipv4Like(100, i)); // from the test thread: wakes the loop
        }
        for (int i = 0; i < 50; i++) {
            assertEquals(Boolean.TRUE, echo.completedWrites.poll(10, TimeUnit.SECONDS), "write " + i);
        }
        for (int i = 0; i < 50; i++) {
            assertArrayEquals(Packets.ipv4Like(100, i), tunnel.takeWritten(), "packet " + i);
        }
        channel.close().sync();
        assertFalse(system.isOpen(MemoryIoSystem.FIRST_FD));
    }

    @Test
    void aLoopOfAnotherKindIsRefused() throws Exception {
        EventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Throwable failure = new Bootstrap().group(nio)
                    .channelFactory(TunChannel.factory(new MemoryIoSystem()))
                    .handler(new PacketEcho())
                    .register().await().cause();
            assertNotNull(failure);
            assertInstanceOf(IllegalStateException.class, failure);
            assertTrue(failure.getMessage().contains("incompatible"), failure.getMessage());
        } finally {
            nio.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
    }
}
