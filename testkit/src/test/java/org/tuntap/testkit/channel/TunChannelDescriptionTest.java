package org.tuntap.testkit.channel;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bound channel says which kind of device it is on, in its address and its toString(). */
class TunChannelDescriptionTest {

    @ParameterizedTest
    @EnumSource(TunMode.class)
    void theLocalAddressAndToStringNameTheMode(TunMode mode) {
        TunnelHarness harness = TunnelHarness.builder().mode(mode).build();
        TunChannel channel = harness.channel();
        String name = mode == TunMode.TUN ? "tun0" : "tap0";
        assertEquals(mode, channel.localAddress().mode());
        assertEquals(name + " (" + mode + ")", channel.localAddress().toString());
        assertTrue(channel.toString().matches("\\[id: 0x[0-9a-f]+, L:" + name + " \\(" + mode + "\\)]"),
                channel.toString());
        assertEquals(new TunAddress(name), channel.localAddress(), "equal by name: the mode only describes");
        assertFalse(harness.finish());
    }

    @ParameterizedTest
    @EnumSource(TunMode.class)
    void anAddressToBindToHasNoMode(TunMode mode) {
        TunAddress address = new TunAddress("tun%d");
        assertNull(address.mode());
        assertEquals("tun%d", address.toString());
        assertEquals("x0 (" + mode + ")", new TunAddress("x0", mode).toString());
    }
}
