package org.tuntap.codec.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv4.Ipv4Repr;

import java.net.InetSocketAddress;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random packets, payloads 0 to 65507 bytes, with and without IP options, both directions. */
class RoundTripTest {

    private static final int[] EDGE_SIZES = {0, 1, 2, 7, 8, 63, 64, 512, 1400, 1472, 9000, 65467, 65507};

    private final Random random = new Random(768);

    @Test
    void builtPacketsDecodeThroughThePipeline() {
        Ipv4Codec ip = new Ipv4Codec();
        UdpCodec udp = new UdpCodec();
        EmbeddedChannel channel = new EmbeddedChannel(ip, udp);
        for (int round = 0; round < 60; round++) {
            int size = round < EDGE_SIZES.length ? EDGE_SIZES[round] : random.nextInt(UdpHeader.MAX_IPV4_PAYLOAD + 1);
            byte[] options = randomOptions();
            if (size + options.length > UdpHeader.MAX_IPV4_PAYLOAD) {
                size -= options.length;
            }
            byte[] payload = new byte[size];
            random.nextBytes(payload);
            Ipv4Repr repr = new Ipv4Repr().source(unicastSource()).destination(random.nextInt())
                    .ttl(1 + random.nextInt(255)).identification(random.nextInt(0x10000))
                    .dscp(random.nextInt(64)).dontFragment(random.nextBoolean()).options(options);
            int sourcePort = random.nextInt(0x10000);
            int destinationPort = random.nextInt(0x10000);
            ByteBuf wire = PooledByteBufAllocator.DEFAULT.directBuffer();
            ByteBuf payloadBuf = TestPackets.tracked(payload);
            UdpPackets.write(wire, repr, sourcePort, destinationPort, payloadBuf, true);
            payloadBuf.release();
            // Independent check of what was built: both checksums verify with the naive sum.
            byte[] bytes = ByteBufUtil.getBytes(wire);
            assertEquals(0, TestPackets.naiveChecksum(bytes, 0, 20 + options.length), "header checksum, round " + round);
            assertEquals(20 + options.length + 8 + size, bytes.length);

            assertTrue(channel.writeInbound(wire), "round " + round + " size " + size);
            DatagramPacket datagram = channel.readInbound();
            try {
                assertEquals(Unpooled.wrappedBuffer(payload), datagram.content());
                assertEquals(sourcePort, datagram.sender().getPort());
                assertEquals(destinationPort, datagram.recipient().getPort());
                assertEquals(repr.source(), org.tuntap.codec.ipv4.Ipv4Addresses.toInt((java.net.Inet4Address) datagram.sender().getAddress()));
                assertEquals(repr.destination(), org.tuntap.codec.ipv4.Ipv4Addresses.toInt((java.net.Inet4Address) datagram.recipient().getAddress()));
            } finally {
                datagram.release();
            }
        }
        assertEquals(0, ip.dropCounters().total() + udp.dropCounters().total());
        assertFalse(channel.finish());
    }

    /** A random source a host may send from (martians are dropped, see FamilyAndMartianTest). */
    private int unicastSource() {
        int source;
        do {
            source = random.nextInt();
        } while (org.tuntap.codec.ipv4.Ipv4Addresses.isMartianSource(source, 0));
        return source;
    }

    @Test
    void encodedPacketsParseBack() {
        for (boolean direct : new boolean[] {false, true}) {
            Ipv4Codec ip = new Ipv4Codec().setTtl(17).setDscp(46).setDontFragment(true).setNextIdentification(0xFFFF);
            EmbeddedChannel channel = new EmbeddedChannel(ip, new UdpCodec());
            for (int round = 0; round < 40; round++) {
                int size = round < EDGE_SIZES.length ? EDGE_SIZES[round] : random.nextInt(UdpHeader.MAX_IPV4_PAYLOAD + 1);
                byte[] payload = new byte[size];
                random.nextBytes(payload);
                InetSocketAddress from = new InetSocketAddress(org.tuntap.codec.ipv4.Ipv4Addresses.toInet(random.nextInt()), random.nextInt(0x10000));
                InetSocketAddress to = new InetSocketAddress(org.tuntap.codec.ipv4.Ipv4Addresses.toInet(random.nextInt()), random.nextInt(0x10000));
                ByteBuf content = direct ? PooledByteBufAllocator.DEFAULT.directBuffer(size).writeBytes(payload) : TestPackets.tracked(payload);
                assertTrue(channel.writeOutbound(new DatagramPacket(content, to, from)));
                ByteBuf wire = channel.readOutbound();
                try {
                    byte[] bytes = ByteBufUtil.getBytes(wire);
                    assertEquals(0, TestPackets.naiveChecksum(bytes, 0, 20), "header checksum");
                    ParseResult<Ipv4Packet> parsedIp = Ipv4Packet.parse(wire, true);
                    Ipv4Packet packet = parsedIp.value();
                    assertEquals(17, packet.ttl());
                    assertEquals(46, packet.dscp());
                    assertTrue(packet.dontFragment());
                    assertEquals((0xFFFF + round) & 0xFFFF, packet.identification(), "identification counts up and wraps");
                    packet.release();
                    DatagramPacket datagram = UdpPackets.parse(wire).value();
                    assertEquals(Unpooled.wrappedBuffer(payload), datagram.content());
                    assertEquals(from, datagram.sender());
                    assertEquals(to, datagram.recipient());
                    datagram.release();
                    assertTrue(Ipv4Header.totalLength(wire, wire.readerIndex()) == size + 28);
                } finally {
                    wire.release();
                }
            }
            assertFalse(channel.finish());
        }
    }

    private byte[] randomOptions() {
        if (random.nextBoolean()) {
            return new byte[0];
        }
        // NOPs then End of Options, a multiple of 4 bytes up to 40, like real padding.
        byte[] options = new byte[4 * (1 + random.nextInt(10))];
        for (int i = 0; i < options.length - 1; i++) {
            options[i] = 1;
        }
        return options;
    }
}
