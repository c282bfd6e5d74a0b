package org.tuntap.testkit.nativeio;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * Multi-queue: two channels with {@code MULTI_QUEUE} on one device, each on its own event loop.
 * The kernel spreads flows over the queues by hashing them, so datagrams from many source
 * ports reach both channels, and every datagram reaches exactly one.
 */
@Tag("netns")
class MultiQueueNativeTest {
    /** Flows (source ports): with two queues, the chance all land on one is 2^-63. */
    private static final int FLOWS = 64;
    private static final InetSocketAddress SINK = new InetSocketAddress(APP, 9);

    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void twoEpollThreads() {
        Netns.require();
        group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    }

    @AfterEach
    void shutdown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void bothQueuesCarryTraffic() throws Exception {
        CountDownLatch allArrived = new CountDownLatch(FLOWS);
        Set<Integer> sourcePorts = ConcurrentHashMap.newKeySet();
        QueueCounter first = new QueueCounter(allArrived, sourcePorts);
        QueueCounter second = new QueueCounter(allArrived, sourcePorts);
        EventLoop firstLoop = group.next();
        EventLoop secondLoop = group.next();
        assertNotSame(firstLoop, secondLoop);

        TunChannel queue0 = bindQueue(firstLoop, first, "mqe2e%d");
        String name = queue0.localAddress().name();
        TunChannel queue1 = bindQueue(secondLoop, second, name);
        List<DatagramSocket> sockets = new ArrayList<>();
        try {
            assertTrue(Ip.ip("-d", "-j", "link", "show", "dev", name).contains("\"numqueues\":2"));
            NativeDevices.connect(queue0);
            for (int flow = 0; flow < FLOWS; flow++) {
                DatagramSocket socket = new DatagramSocket(new InetSocketAddress(KERNEL, 0));
                sockets.add(socket);
                byte[] payload = Pipelines.payload(flow);
                socket.send(new java.net.DatagramPacket(payload, payload.length, SINK));
            }
            assertTrue(allArrived.await(5, TimeUnit.SECONDS),
                    "datagrams read: " + first.count + " + " + second.count + " of " + FLOWS);
            assertEquals(FLOWS, sourcePorts.size(), "each flow arrived once");
            assertEquals(FLOWS, first.count.get() + second.count.get());
            assertTrue(first.count.get() > 0, "queue 0 read nothing; queue 1 read " + second.count);
            assertTrue(second.count.get() > 0, "queue 1 read nothing; queue 0 read " + first.count);
            assertEquals(Set.of(firstLoop), first.loops);
            assertEquals(Set.of(secondLoop), second.loops);
        } finally {
            for (DatagramSocket socket : sockets) {
                socket.close();
            }
            queue1.close().sync();
            queue0.close().sync();
        }
    }

    private static TunChannel bindQueue(EventLoop loop, ChannelHandler counter, String name) throws Exception {
        return NativeDevices.bind(NativeDevices.bootstrap(loop, TunMode.TUN, false)
                .option(TunChannelOption.MULTI_QUEUE, true)
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(new Ipv4Codec(), new UdpCodec(), counter))),
                name);
    }

    /** Counts the datagrams to the sink one queue reads, and on which loops. */
    @ChannelHandler.Sharable
    private static final class QueueCounter extends SimpleChannelInboundHandler<DatagramPacket> {
        final AtomicInteger count = new AtomicInteger();
        final Set<EventLoop> loops = ConcurrentHashMap.newKeySet();
        private final CountDownLatch allArrived;
        private final Set<Integer> sourcePorts;

        QueueCounter(CountDownLatch allArrived, Set<Integer> sourcePorts) {
            this.allArrived = allArrived;
            this.sourcePorts = sourcePorts;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            if (!SINK.equals(packet.recipient())) {
                return;
            }
            loops.add(ctx.channel().eventLoop());
            count.incrementAndGet();
            sourcePorts.add(packet.sender().getPort());
            allArrived.countDown();
        }
    }
}
