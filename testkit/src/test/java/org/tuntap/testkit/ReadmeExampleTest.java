package org.tuntap.testkit;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.Test;
import org.tuntap.transport.TunMode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The README's "Testing a pipeline against a tunnel" example, as written there. */
class ReadmeExampleTest {

    @Test
    void echoesPackets() {
        ChannelInboundHandlerAdapter echo = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg); // the packet goes back to the device as it came
            }
        };
        TunnelHarness harness = TunnelHarness.builder()
                .mode(TunMode.TUN)        // or TAP: packets are then Ethernet frames
                .packetInfo(false)        // true: every packet carries the 4-byte PI header
                .handlers(echo)
                .build();                 // registers and binds the channel (tun0)

        byte[] packet = {0x45, 0, 0, 20 /* ... an IPv4 packet ... */};
        harness.writeToTunnel(packet);    // the kernel routes a packet to the device; the loop runs

        assertArrayEquals(packet, harness.readFromTunnel()); // what the pipeline wrote to the device
        assertFalse(harness.finish());    // closes; false = nothing left unread; throws on a leak
    }
}
