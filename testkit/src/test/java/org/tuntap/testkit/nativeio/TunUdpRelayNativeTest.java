package org.tuntap.testkit.nativeio;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
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
import org.tuntap.transport.TunMode;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * A VPN in miniature: a TUN channel and an {@link EpollDatagramChannel} on one single-thread
 * epoll loop, relaying between each other with no thread hop. Datagrams the host sends into the
 * tunnel go out of the UDP socket to its peer; datagrams the peer sends to the UDP socket come
 * out of the tunnel to a socket on the host.
 */
@Tag("netns")
class TunUdpRelayNativeTest {
    private static final InetSocketAddress TUNNEL_SERVICE = new InetSocketAddress(APP, 4000);
    /**
     * Payload sizes through the tunnel; from 1, because Netty's datagram channels drop an empty
     * datagram instead of sending it. The way back, into the tunnel, carries 7 bytes more (at most
     * the 1472 an MTU of 1500 allows).
     */
    private static final int[] SIZES = {1, 100, 1000, 1472};

    private MultiThreadIoEventLoopGroup group;
    /** The threads the relay's handlers ran on. */
    private final Set<Thread> relayThreads = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void oneEpollThread() {
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
    void relaysBothWaysOnOneThread() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
            peer.setSoTimeout(5000);
            InetSocketAddress peerAddress = (InetSocketAddress) peer.getLocalSocketAddress();

            // Wired after both exist: each side's handler writes to the other channel.
            Channel[] udp = new Channel[1];
            TunChannel[] tun = new TunChannel[1];
            InetSocketAddress[] hostSide = new InetSocketAddress[1];

            tun[0] = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, false)
                    .handler(Pipelines.of(ch -> ch.pipeline().addLast(new Ipv4Codec(), new UdpCodec(),
                            new Relay(packet -> udp[0].writeAndFlush(
                                    new DatagramPacket(packet.content().retain(), peerAddress)))))),
                    "relay%d");
            udp[0] = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .handler(new Relay(packet -> tun[0].writeAndFlush(
                            new DatagramPacket(packet.content().retain(), hostSide[0], TUNNEL_SERVICE))))
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            try (DatagramSocket host = new DatagramSocket(null)) {
                NativeDevices.connect(tun[0]);
                host.bind(new InetSocketAddress(KERNEL, 0));
                host.setSoTimeout(5000);
                hostSide[0] = (InetSocketAddress) host.getLocalSocketAddress();

                assertSame(tun[0].eventLoop(), udp[0].eventLoop(), "both channels on the one loop");

                for (int size : SIZES) {
                    byte[] outbound = Pipelines.payload(size);
                    host.send(new java.net.DatagramPacket(outbound, size, TUNNEL_SERVICE));
                    java.net.DatagramPacket atPeer = receive(peer, size);
                    assertArrayEquals(outbound, Arrays.copyOf(atPeer.getData(), atPeer.getLength()),
                            "tunnel to peer, " + size + " bytes");
                    assertEquals(udp[0].localAddress(), atPeer.getSocketAddress());

                    byte[] inbound = Pipelines.payload(Math.min(size + 7, 1472));
                    peer.send(new java.net.DatagramPacket(inbound, inbound.length, udp[0].localAddress()));
                    java.net.DatagramPacket atHost = receive(host, inbound.length);
                    assertArrayEquals(inbound, Arrays.copyOf(atHost.getData(), atHost.getLength()),
                            "peer to tunnel, " + inbound.length + " bytes");
                    assertEquals(TUNNEL_SERVICE, atHost.getSocketAddress());
                }
            } finally {
                udp[0].close().sync();
                tun[0].close().sync();
            }
            Thread loopThread = tun[0].eventLoop().submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
            assertEquals(Set.of(loopThread), relayThreads, "every relay handler ran on the loop's one thread");
        }
    }

    /** Receives one datagram into a buffer one byte longer than expected (a longer one would show). */
    private static java.net.DatagramPacket receive(DatagramSocket socket, int expected) throws Exception {
        java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[expected + 1], expected + 1);
        socket.receive(packet);
        return packet;
    }

    /** Hands every datagram to the other side, noting the thread; the original is released. */
    private final class Relay extends SimpleChannelInboundHandler<DatagramPacket> {
        private final Consumer<DatagramPacket> forward;

        Relay(Consumer<DatagramPacket> forward) {
            this.forward = forward;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            relayThreads.add(Thread.currentThread());
            if (!ctx.channel().eventLoop().inEventLoop()) {
                throw new AssertionError("relay outside its loop: " + ByteBufUtil.hexDump(packet.content()));
            }
            forward.accept(packet);
        }
    }
}
