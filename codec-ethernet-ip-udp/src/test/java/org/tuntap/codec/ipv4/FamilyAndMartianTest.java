package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.EthernetFrame;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.pi.PiHeader;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpPackets;

import java.net.Inet4Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The link layer's word decides the IP family; sources no host sends from are dropped. */
class FamilyAndMartianTest {

    private static byte[] udp(String from, String to) throws Exception {
        Ipv4Repr ip = new Ipv4Repr().source((Inet4Address) InetAddress.getByName(from))
                .destination((Inet4Address) InetAddress.getByName(to));
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        ByteBuf payload = TestPackets.tracked(new byte[] {1, 2, 3});
        try {
            UdpPackets.write(out, ip, 68, 67, payload, true);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
            payload.release();
        }
    }

    @Test
    void martianSourcesAreDroppedAsTheKernelDoes() throws Exception {
        Ipv4Codec ipv4 = new Ipv4Codec();
        EmbeddedChannel channel = new EmbeddedChannel(ipv4, new UdpCodec());
        for (String source : new String[] {"224.0.0.1", "239.1.2.3", "255.255.255.255", "127.0.0.1", "0.0.0.0"}) {
            assertFalse(channel.writeInbound(TestPackets.tracked(udp(source, "192.0.2.2"))), source);
        }
        assertEquals(5, ipv4.dropCounters().get(DropReason.MARTIAN));
        // A DHCP client without an address broadcasts from 0.0.0.0: that one is fine.
        assertTrue(channel.writeInbound(TestPackets.tracked(udp("0.0.0.0", "255.255.255.255"))));
        DatagramPacket dhcp = channel.readInbound();
        assertEquals("0.0.0.0", dhcp.sender().getAddress().getHostAddress());
        dhcp.release();
        assertEquals(5, ipv4.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void piProtocolIpv4WithVersionSixIsBadVersionNotIpv6() throws Exception {
        PiCodec pi = PiCodec.forTun();
        Ipv4Codec ipv4 = new Ipv4Codec();
        EmbeddedChannel channel = new EmbeddedChannel(pi, ipv4, new UdpCodec());
        byte[] packet = udp("192.0.2.1", "192.0.2.2");
        packet[0] = 0x65; // version 6, behind a PI header that says IPv4
        ByteBuf in = PooledByteBufAllocator.DEFAULT.heapBuffer();
        PiHeader.write(in, 0, EtherType.IPV4);
        in.writeBytes(packet);
        assertFalse(channel.writeInbound(in));
        assertEquals(1, ipv4.dropCounters().get(DropReason.BAD_VERSION));
        assertFalse(channel.finish());
    }

    @Test
    void piProtocolIpv6IsPassedOnAsIpv6WhateverTheNibble() throws Exception {
        Ipv4Codec ipv4 = new Ipv4Codec();
        EmbeddedChannel channel = new EmbeddedChannel(PiCodec.forTun(), ipv4, new UdpCodec());
        ByteBuf in = PooledByteBufAllocator.DEFAULT.heapBuffer();
        PiHeader.write(in, 0, EtherType.IPV6);
        in.writeBytes(udp("192.0.2.1", "192.0.2.2"));
        assertTrue(channel.writeInbound(in));
        Object passed = channel.readInbound();
        assertInstanceOf(org.tuntap.codec.pi.PiPacket.class, passed, "left to the IPv6 layer, which checks the nibble");
        io.netty.util.ReferenceCountUtil.release(passed);
        assertEquals(0, ipv4.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void ethertypeIpv4WithVersionSixIsBadVersion() throws Exception {
        Ipv4Codec ipv4 = new Ipv4Codec();
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec(), ipv4);
        byte[] packet = udp("192.0.2.1", "192.0.2.2");
        packet[0] = 0x65;
        ByteBuf in = PooledByteBufAllocator.DEFAULT.heapBuffer();
        EthernetHeader.write(in, MacAddress.parse("02:00:00:00:00:02"), MacAddress.parse("02:00:00:00:00:01"), EtherType.IPV4);
        in.writeBytes(packet);
        assertFalse(channel.writeInbound(in));
        assertEquals(1, ipv4.dropCounters().get(DropReason.BAD_VERSION));
        assertFalse(channel.finish());
    }
}
