package org.tuntap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.arp.ArpPacket;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.EthernetFrame;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpHeader;
import org.tuntap.codec.udp.UdpPackets;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Packets Linux wrote to TUN/TAP devices (src/test/fixtures/capture.py), parsed and rebuilt. */
class KernelFixturesTest {

    private static final InetSocketAddress KERNEL_9999_FROM = new InetSocketAddress("192.0.2.1", 40000);

    @Test
    void smallTunPacketVerifiesAndIsRebuiltByteForByte() {
        byte[] kernel = TestPackets.fixture("tun-udp-small.hex");
        assertEquals(0, TestPackets.naiveChecksum(kernel, 0, 20), "the kernel's header checksum, checked naively");
        ByteBuf in = TestPackets.tracked(kernel);
        Ipv4Packet ip = Ipv4Packet.parse(in, true).value();
        assertTrue(ip.dontFragment());
        assertEquals(64, ip.ttl());
        assertNotEquals(0, UdpHeader.checksumField(ip.content(), 20), "the kernel computed a UDP checksum");
        DatagramPacket datagram = UdpPackets.parse(ip, true).value();
        assertEquals("hi", datagram.content().toString(StandardCharsets.US_ASCII));
        assertEquals(new InetSocketAddress("192.0.2.1", 21345), datagram.sender());
        assertEquals(new InetSocketAddress("192.0.2.2", 12345), datagram.recipient());

        // Our builder, given the kernel's choices, writes the kernel's bytes, checksums included.
        ByteBuf rebuilt = PooledByteBufAllocator.DEFAULT.directBuffer();
        UdpPackets.write(rebuilt, new Ipv4Repr().source(ip.sourceInt()).destination(ip.destinationInt())
                        .identification(ip.identification()).dontFragment(true).ttl(64),
                21345, 12345, datagram.content(), true);
        assertEquals(TestPackets.hex(in), TestPackets.hex(rebuilt));
        rebuilt.release();
        datagram.release();
        ip.release();
        in.release();
    }

    @Test
    void largeTunPacket() {
        ByteBuf in = TestPackets.tracked(TestPackets.fixture("tun-udp-1400.hex"));
        Ipv4Codec ipCodec = new Ipv4Codec();
        UdpCodec udpCodec = new UdpCodec();
        EmbeddedChannel channel = new EmbeddedChannel(ipCodec, udpCodec);
        assertTrue(channel.writeInbound(in));
        DatagramPacket datagram = channel.readInbound();
        assertEquals(1400, datagram.content().readableBytes());
        for (int i = 0; i < 1400; i++) {
            assertEquals(i % 251, datagram.content().getUnsignedByte(datagram.content().readerIndex() + i));
        }
        assertEquals(7, datagram.recipient().getPort());
        datagram.release();
        assertEquals(0, ipCodec.dropCounters().total() + udpCodec.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void tunPacketWithPiHeader() {
        ByteBuf in = TestPackets.tracked(TestPackets.fixture("tun-pi-udp.hex"));
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTun(), new Ipv4Codec(), new UdpCodec());
        assertTrue(channel.writeInbound(in));
        DatagramPacket datagram = channel.readInbound();
        assertEquals("hello from the kernel", datagram.content().toString(StandardCharsets.US_ASCII));
        assertEquals(KERNEL_9999_FROM, datagram.sender());
        assertEquals(new InetSocketAddress("192.0.2.2", 9999), datagram.recipient());
        datagram.release();
        assertFalse(channel.finish());
    }

    @Test
    void tapArpRequestAndUdpFrame() {
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec());
        assertTrue(channel.writeInbound(TestPackets.tracked(TestPackets.fixture("tap-arp-request.hex"))));
        EthernetFrame arp = channel.readInbound();
        assertTrue(arp.destination().isBroadcast());
        ByteBuf body = arp.content();
        int at = body.readerIndex();
        assertEquals(null, ArpPacket.check(body, at, body.readableBytes()));
        assertEquals(ArpPacket.REQUEST, ArpPacket.operation(body, at));
        assertEquals(0xc0000201, ArpPacket.senderIp(body, at));
        assertEquals(0xc0000202, ArpPacket.targetIp(body, at));
        assertEquals(arp.sourceBits(), ArpPacket.senderMac(body, at));
        arp.release();

        assertTrue(channel.writeInbound(TestPackets.tracked(TestPackets.fixture("tap-udp.hex"))));
        EthernetFrame udp = channel.readInbound();
        assertEquals(MacAddress.parse("02:00:00:00:00:02"), udp.destination());
        DatagramPacket datagram = UdpPackets.parse(udp.content()).value();
        assertEquals("frame me", datagram.content().toString(StandardCharsets.US_ASCII));
        datagram.release();
        udp.release();
        assertFalse(channel.finish());
    }
}
