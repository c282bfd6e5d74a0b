package org.tuntap.testkit.nativeio;

import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.testkit.support.DatagramEcho;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;
import static org.tuntap.testkit.nativeio.NativeDevices.PREFIX;

/**
 * One pipeline, both families, on the real kernel: kernel UDP sockets send over IPv6 and IPv4
 * through a TUN device, the same codecs (IPv6 below IPv4, UDP on top) hand both to one ordinary
 * {@code DatagramPacket} handler, and every echo comes back byte for byte, up to the MTU.
 */
@Tag("netns")
class DualStackEchoNativeTest {
    private static final Inet6Address KERNEL6 = NativeDevices.address6("2001:db8:0:2::1");
    private static final Inet6Address APP6 = NativeDevices.address6("2001:db8:0:2::2");
    /** Payload sizes for an MTU of 1500 over IPv6: empty, tiny, middling, the largest (1500 - 40 - 8). */
    private static final int[] SIZES_1500 = {0, 1, 100, 1000, 1452};

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

    @ParameterizedTest(name = "packet information: {0}")
    @ValueSource(booleans = {false, true})
    void udpOverIpv6AndIpv4IsEchoedByteForByte(boolean packetInfo) throws Exception {
        DatagramEcho echo = new DatagramEcho();
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, packetInfo)
                .handler(Pipelines.of(ch -> {
                    ChannelPipeline p = ch.pipeline();
                    if (packetInfo) {
                        p.addLast(PiCodec.forTun());
                    }
                    p.addLast(new Ipv6Codec(), new Ipv4Codec(), new UdpCodec(), echo);
                })), "dual%d");
        try {
            String name = channel.localAddress().name();
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            interfaces.setIpv4Address(name, KERNEL, PREFIX);
            interfaces.addIpv6Address(name, KERNEL6, 64);
            interfaces.setUp(name, true);

            try (DatagramSocket socket6 = NativeDevices.boundSocket(KERNEL6)) {
                echoEach(socket6, echo, new InetSocketAddress(APP6, 7), SIZES_1500);
            }
            try (DatagramSocket socket4 = NativeDevices.boundSocket(KERNEL)) {
                echoEach(socket4, echo, new InetSocketAddress(APP, 7), 0, 1472);
            }
        } finally {
            channel.close().sync();
        }
    }

    /** One datagram of each size, in turn: the pipeline sees it, the socket gets it back. */
    private static void echoEach(DatagramSocket socket, DatagramEcho echo, InetSocketAddress to, int... sizes) throws Exception {
        InetSocketAddress local = (InetSocketAddress) socket.getLocalSocketAddress();
        for (int size : sizes) {
            byte[] payload = Pipelines.payload(size);
            socket.send(new DatagramPacket(payload, size, to));

            DatagramEcho.Seen seen = echo.next();
            assertNotNull(seen, "the pipeline saw no datagram of " + size + " bytes to " + to);
            assertArrayEquals(payload, seen.payload(), "payload of " + size + " bytes in the pipeline");
            assertEquals(local, seen.sender());
            assertEquals(to, seen.recipient());

            byte[] buffer = new byte[size + 1]; // one spare byte: a longer reply would show
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            assertEquals(size, reply.getLength(), "echo of " + size + " bytes from " + to);
            assertArrayEquals(payload, Arrays.copyOf(buffer, size));
            assertEquals(to, reply.getSocketAddress());
        }
    }
}
