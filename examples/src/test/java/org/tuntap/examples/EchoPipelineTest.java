package org.tuntap.examples;

import org.junit.jupiter.api.Test;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.transport.TunMode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The echo's pipeline against what a hostile or broken peer sends. */
class EchoPipelineTest {
    private static final InetSocketAddress ECHO = new InetSocketAddress(address("198.51.100.2"), 7);

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final AtomicLong clock = new AtomicLong();
    private final RateLimitedErrorLog errors =
            new RateLimitedErrorLog(new PrintStream(log, true, StandardCharsets.UTF_8), clock::get);

    @Test
    void repliesThatCannotBeEncodedAreCountedAndLoggedAtMostOnceInAWhile() {
        UdpEchoHandler echo = new UdpEchoHandler();
        EchoPipeline pipeline = new EchoPipeline(echo, MacAddress.randomLocal(), List.of((Inet4Address) ECHO.getAddress()), null, errors);
        TunnelHarness harness = TunnelHarness.builder().handlers(pipeline).build();
        // Sent to 0.0.0.0: the reply would come from 0.0.0.0, which UDP cannot send from.
        InetSocketAddress nowhere = new InetSocketAddress(address("0.0.0.0"), 7);
        for (int i = 0; i < 200; i++) {
            harness.ioSystem().sendUdp(new byte[] {(byte) i}, nowhere);
            harness.runPendingTasks();
        }
        assertEquals(200, errors.errors());
        assertEquals(1, lines(), "one line for 200 failed replies: " + log);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("EncoderException"), log.toString(StandardCharsets.UTF_8));
        assertFalse(log.toString(StandardCharsets.UTF_8).contains("\tat "), "no stack trace");

        clock.addAndGet(RateLimitedErrorLog.INTERVAL_NANOS);
        harness.ioSystem().sendUdp(new byte[] {1}, nowhere);
        harness.runPendingTasks();
        assertEquals(2, lines(), "the next line once the interval passed: " + log);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("(and 199 more errors since the last report)"),
                log.toString(StandardCharsets.UTF_8));

        // The echo goes on answering everyone else.
        harness.ioSystem().sendUdp("still here".getBytes(StandardCharsets.US_ASCII), ECHO);
        harness.runPendingTasks();
        byte[] reply = harness.ioSystem().receiveUdp(harness.channel().fd(),
                MemoryIoSystem.SEND_UDP_SOURCE.getAddress(), MemoryIoSystem.SEND_UDP_SOURCE.getPort()).recv(100);
        assertEquals("still here", new String(reply, StandardCharsets.US_ASCII));
        assertNull(harness.readInbound(), "nothing reached the end of the pipeline");
        assertFalse(harness.finish());
    }

    @Test
    void everyLayersDropsAreCounted() {
        EchoPipeline pipeline = new EchoPipeline(new UdpEchoHandler(), MacAddress.randomLocal(),
                List.of((Inet4Address) ECHO.getAddress()), null, errors);
        TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TAP).packetInfo(true).handlers(pipeline).build();
        assertEquals("dropped by PI 0, Ethernet 0, ARP 0, IPv6 0, IPv4 0, UDP 0, ICMP 0", pipeline.describeDrops());
        harness.writeRawToTunnel(new byte[] {1, 2, 3}); // a frame shorter than an Ethernet header
        assertEquals(1, pipeline.drops("Ethernet"));
        assertEquals("dropped by PI 0, Ethernet 1, ARP 0, IPv6 0, IPv4 0, UDP 0, ICMP 0", pipeline.describeDrops());
        assertEquals(0, errors.errors());
        assertFalse(harness.finish());
    }

    @Test
    void onTapTheEchoAnswersUdpAndPingOverIpv6ForItsEchoAddress() throws Exception {
        java.net.Inet6Address echo6 = (java.net.Inet6Address) address("2001:db8::2");
        java.net.Inet6Address host6 = (java.net.Inet6Address) address("2001:db8::1");
        EchoPipeline pipeline = new EchoPipeline(new UdpEchoHandler(), MacAddress.parse("02:00:00:00:00:02"),
                List.of(ECHO.getAddress(), echo6), null, errors);
        TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TAP).handlers(pipeline).build();

        byte[] data = "over six".getBytes(StandardCharsets.US_ASCII);
        io.netty.buffer.ByteBuf udp = io.netty.buffer.Unpooled.buffer(48 + data.length);
        udp.writerIndex(48).writeBytes(data);
        org.tuntap.codec.udp.UdpHeader.setIpv6(udp, 40, org.tuntap.codec.ipv6.Ipv6Addresses.high(host6),
                org.tuntap.codec.ipv6.Ipv6Addresses.low(host6), org.tuntap.codec.ipv6.Ipv6Addresses.high(echo6),
                org.tuntap.codec.ipv6.Ipv6Addresses.low(echo6), 5555, 7, udp, 48, data.length, true);
        new org.tuntap.codec.ipv6.Ipv6Repr().source(host6).destination(echo6).nextHeader(17).emit(udp, 0, 8 + data.length);
        harness.writeToTunnel(io.netty.buffer.ByteBufUtil.getBytes(udp));
        udp.release();
        // The network solicited the echo's MAC; the echo advertised it, then answered.
        assertEquals(MacAddress.parse("02:00:00:00:00:02"), harness.tunnel().programNeighbour(echo6));
        assertEquals(136, harness.readFromTunnel()[14 + 40] & 0xFF, "the neighbour advertisement");
        byte[] reply = harness.readFromTunnel();
        assertEquals(0x86, reply[12] & 0xFF);
        assertEquals("over six", new String(reply, reply.length - data.length, data.length, StandardCharsets.US_ASCII));
        assertEquals(17, reply[14 + 6], "UDP");

        io.netty.buffer.ByteBuf ping = io.netty.buffer.Unpooled.buffer(48);
        org.tuntap.codec.icmp.IcmpHeader.setEcho(ping, 40, org.tuntap.codec.icmp.Icmpv6Types.ECHO_REQUEST, 7, 1);
        ping.writerIndex(48);
        new org.tuntap.codec.ipv6.Ipv6Repr().source(host6).destination(echo6).nextHeader(58).emit(ping, 0, 8);
        org.tuntap.codec.icmp.IcmpHeader.setChecksum(ping, 40, 8, org.tuntap.codec.checksum.InternetChecksum.pseudoHeaderSumIpv6(ping, 0, 58, 8));
        harness.writeToTunnel(io.netty.buffer.ByteBufUtil.getBytes(ping));
        ping.release();
        byte[] pong = harness.readFromTunnel();
        assertEquals(org.tuntap.codec.icmp.Icmpv6Types.ECHO_REPLY, pong[14 + 40] & 0xFF, "ping -6 answered");
        assertEquals("dropped by Ethernet 0, ARP 0, IPv6 0, IPv4 0, UDP 0, ICMP 0", pipeline.describeDrops());
        assertFalse(harness.finish());
    }

    /** What the kernel sends for a datagram larger than the device's MTU: fragments, reassembled and echoed whole. */
    @Test
    void aDatagramTheKernelFragmentedIsEchoedWhole() {
        EchoPipeline pipeline = new EchoPipeline(new UdpEchoHandler(), MacAddress.randomLocal(),
                List.of((Inet4Address) ECHO.getAddress()), null, errors);
        TunnelHarness harness = TunnelHarness.builder().handlers(pipeline).build();
        byte[] data = new byte[3000];
        new java.util.Random(791).nextBytes(data);
        int host = 0xC6336401; // 198.51.100.1
        int echo = 0xC6336402; // 198.51.100.2
        io.netty.buffer.ByteBuf whole = io.netty.buffer.Unpooled.buffer(28 + data.length);
        whole.writerIndex(28).writeBytes(data);
        org.tuntap.codec.udp.UdpHeader.set(whole, 20, host, echo, 5555, 7, whole, 28, data.length, true);
        new org.tuntap.codec.ipv4.Ipv4Repr().source(host).destination(echo).protocol(17).identification(0x1234)
                .emit(whole, 0, 8 + data.length, true);
        int ipPayload = 8 + data.length; // 3008 bytes, cut at 1480 as the kernel does at MTU 1500
        for (int offset = 0; offset < ipPayload; offset += 1480) {
            int length = Math.min(1480, ipPayload - offset);
            io.netty.buffer.ByteBuf fragment = io.netty.buffer.Unpooled.buffer(20 + length);
            fragment.writeBytes(whole, 0, 20).writeBytes(whole, 20 + offset, length);
            org.tuntap.codec.ipv4.Ipv4Header.setTotalLength(fragment, 0, 20 + length);
            org.tuntap.codec.ipv4.Ipv4Header.setFragment(fragment, 0, offset + length < ipPayload, offset / 8);
            org.tuntap.codec.ipv4.Ipv4Header.updateChecksum(fragment, 0);
            harness.writeToTunnel(io.netty.buffer.ByteBufUtil.getBytes(fragment));
            fragment.release();
        }
        whole.release();
        byte[] reply = harness.readFromTunnel();
        assertEquals(28 + data.length, reply.length, "one packet: the kernel takes it whole");
        assertEquals(0, (reply[6] & 0x3F) | reply[7], "not a fragment");
        assertArrayEquals(data, java.util.Arrays.copyOfRange(reply, 28, reply.length));
        assertEquals("dropped by IPv6 0, IPv4 0, UDP 0, ICMP 0", pipeline.describeDrops());
        assertFalse(harness.finish());
    }

    private long lines() {
        return log.toString(StandardCharsets.UTF_8).lines().count();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
