package dev.bkg.pluginmanager.store;

import java.time.Instant;
import java.util.List;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.UniqueConstraint;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import io.smallrye.mutiny.Uni;

/** One version of a plugin's config; the highest version is the current one. */
@Entity
@Table(name = "plugin_config", uniqueConstraints = @UniqueConstraint(columnNames = { "plugin_id", "version" }))
public class PluginConfigVersion extends PanacheEntityBase {

    @Id
    @GeneratedValue
    public Long id;

    @Column(name = "plugin_id", nullable = false, length = 40)
    public String pluginId;

    @Column(nullable = false)
    public int version;

    @Column(name = "config_json", nullable = false, columnDefinition = "text")
    public String configJson;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    @Column(name = "updated_by", nullable = false, length = 100)
    public String updatedBy;

    public static Uni<List<PluginConfigVersion>> newestFirst(String pluginId, int limit) {
        return find("pluginId = ?1 order by version desc", pluginId).page(0, limit).list();
    }

    /** The current version of every plugin that has one. */
    public static Uni<List<PluginConfigVersion>> currentOfEach() {
        return list("from PluginConfigVersion p where p.version = "
                + "(select max(c.version) from PluginConfigVersion c where c.pluginId = p.pluginId)");
    }
}
