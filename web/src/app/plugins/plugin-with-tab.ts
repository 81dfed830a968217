import { Component, input, signal } from '@angular/core';
import { ComingPage } from '../placeholders/coming-page';
import { Tabs } from '../shared/tabs';
import { PluginDashboard } from './plugin-dashboard';

/**
 * A plugin whose own page (chat for llmserver) comes with a later issue: its
 * dashboard, and a tab that says what is coming. Route data gives the plugin id and the tab.
 */
@Component({
  selector: 'bkg-plugin-with-tab',
  imports: [Tabs, PluginDashboard, ComingPage],
  template: `
    <bkg-tabs [tabs]="['Dashboard', featureTab()]" [(active)]="tab" />
    @if (tab() === 'Dashboard') {
      <bkg-plugin-dashboard [pluginId]="pluginId()" />
    } @else {
      <bkg-coming-page [title]="featureTab()" [what]="featureWhat()" />
    }
  `,
})
export class PluginWithTab {
  readonly pluginId = input.required<string>();
  readonly featureTab = input.required<string>();
  readonly featureWhat = input.required<string>();
  protected readonly tab = signal('Dashboard');
}
