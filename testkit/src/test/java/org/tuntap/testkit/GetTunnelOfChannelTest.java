package org.tuntap.testkit;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.tuntap.transport.TunChannel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Twisted's getTunnel(port): from a TunChannel to the in-memory tunnel behind it. */
class GetTunnelOfChannelTest {

    @Test
    void aBoundChannelLeadsToItsTunnel() {
        try (TunnelHarness harness = TunnelHarness.builder().name("tun%d").build()) {
            MemoryIoSystem system = harness.ioSystem();
            TunChannel channel = harness.channel();
            Tunnel tunnel = system.getTunnel(channel);
            assertSame(harness.tunnel(), tunnel);
            assertSame(system.tunnel(channel.fd()), tunnel);
            assertEquals("tun0", tunnel.name());

            assertThrows(IllegalArgumentException.class, () -> new MemoryIoSystem().getTunnel(channel),
                    "a channel of another system");
            channel.close().syncUninterruptibly();
            assertThrows(IllegalArgumentException.class, () -> system.getTunnel(channel), "a closed channel");
        }
    }

    @Test
    void otherChannelsAreRefused() {
        MemoryIoSystem system = new MemoryIoSystem();
        EmbeddedChannel embedded = new EmbeddedChannel();
        try {
            assertThrows(IllegalArgumentException.class, () -> system.getTunnel(embedded));
            assertThrows(IllegalArgumentException.class, () -> system.getTunnel(new TunChannel(system)),
                    "an unbound channel");
        } finally {
            embedded.finishAndReleaseAll();
        }
    }
}
