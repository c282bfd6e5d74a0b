package org.tuntap.testkit.nativeio;

import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.testkit.support.DatagramEcho;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxTun;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * The codecs on the real kernel: an ordinary UDP socket sends to an address routed through a
 * TUN or TAP device, the pipeline sees Netty {@code DatagramPacket}s, echoes them, and the
 * socket gets every one back byte for byte, for every payload size an MTU allows.
 */
@Tag("netns")
class CodecEchoNativeTest {
    private static final int ECHO_PORT = 7;
    private static final InetSocketAddress ECHO = new InetSocketAddress(APP, ECHO_PORT);
    /** Payload sizes for an MTU of 1500: empty, tiny, middling, and the largest (1500 - 20 - 8). */
    private static final int[] SIZES_1500 = {0, 1, 2, 100, 1000, 1472};
    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:5e:10:02");

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
    void tunEchoesEveryPayloadSizeUpToTheMtu(boolean packetInfo) throws Exception {
        DatagramEcho echo = new DatagramEcho();
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, packetInfo)
                .handler(Pipelines.of(ch -> {
                    ChannelPipeline p = ch.pipeline();
                    if (packetInfo) {
                        p.addLast(PiCodec.forTun());
                    }
                    p.addLast(new Ipv4Codec(), new UdpCodec(), echo);
                })), "e2etun%d");
        try (DatagramSocket socket = kernelSocket(channel)) {
            String name = channel.localAddress().name();
            assertEquals(1500, LinuxTun.interfaces().mtu(name), "a new TUN device's MTU");
            echoEach(socket, echo, SIZES_1500);

            LinuxTun.interfaces().setMtu(name, 576);
            assertEquals(576, LinuxTun.interfaces().mtu(name));
            echoEach(socket, echo, 0, 100, 576 - 28);
        } finally {
            channel.close().sync();
        }
    }

    @ParameterizedTest(name = "packet information: {0}")
    @ValueSource(booleans = {false, true})
    void tapAnswersTheKernelsArpAndEchoes(boolean packetInfo) throws Exception {
        DatagramEcho echo = new DatagramEcho();
        ArpHandler arp = new ArpHandler(APP_MAC, List.of(APP));
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TAP, packetInfo)
                .handler(Pipelines.of(ch -> {
                    ChannelPipeline p = ch.pipeline();
                    if (packetInfo) {
                        p.addLast(PiCodec.forTap());
                    }
                    p.addLast(new EthernetCodec(), arp, new Ipv4Codec(), new UdpCodec(), echo);
                })), "e2etap%d");
        try (DatagramSocket socket = kernelSocket(channel)) {
            String name = channel.localAddress().name();
            MacAddress kernelMac = MacAddress.parse(Ip.macAddress(name));

            // The first datagram waits in the kernel until our ARP reply resolves APP.
            echoEach(socket, echo, SIZES_1500);

            Map<?, MacAddress> learned = channel.eventLoop().submit(arp::neighbours).get(5, TimeUnit.SECONDS);
            assertEquals(kernelMac, learned.get(KERNEL), "the ARP handler learned the kernel's MAC: " + learned);
            String neighbours = Ip.ip("neigh", "show", "dev", name);
            assertTrue(neighbours.contains(APP.getHostAddress() + " lladdr " + APP_MAC),
                    "the kernel's neighbour table has our ARP reply: " + neighbours);
        } finally {
            channel.close().sync();
        }
    }

    /** Puts the device on the network and opens a socket on the kernel's address. */
    private static DatagramSocket kernelSocket(TunChannel channel) throws Exception {
        NativeDevices.connect(channel);
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(KERNEL, 0));
        socket.setSoTimeout(5000);
        return socket;
    }

    /** One datagram of each size, in turn: the pipeline sees it, the socket gets it back. */
    private static void echoEach(DatagramSocket socket, DatagramEcho echo, int... sizes) throws Exception {
        InetSocketAddress local = (InetSocketAddress) socket.getLocalSocketAddress();
        for (int size : sizes) {
            byte[] payload = Pipelines.payload(size);
            socket.send(new DatagramPacket(payload, size, ECHO));

            DatagramEcho.Seen seen = echo.next();
            assertNotNull(seen, "the pipeline saw no datagram of " + size + " bytes");
            assertArrayEquals(payload, seen.payload(), "payload of " + size + " bytes in the pipeline");
            assertEquals(local, seen.sender());
            assertEquals(ECHO, seen.recipient());

            byte[] buffer = new byte[size + 1]; // one spare byte: a longer reply would show
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            assertEquals(size, reply.getLength(), "echo of " + size + " bytes");
            assertArrayEquals(payload, Arrays.copyOf(buffer, size));
            assertEquals(ECHO, reply.getSocketAddress());
        }
    }
}
